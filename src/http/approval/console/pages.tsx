/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { approvalView } from '../../../core/approvals/open.js';
import type { ApproverKey, ApproverRecord } from '../../../core/approvals/types.js';
import { Visible } from './visible.js';

export type RequestView = ReturnType<typeof approvalView>;

export function Layout({ title, approver, children }: { title: string; approver?: ApproverRecord; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{title} · stint approvals</title>
        <link rel="stylesheet" href="/console.css" />
        <script src="/console.js" defer></script>
      </head>
      <body>
        <header>
          <a href="/">stint approvals</a>
          {approver ? (
            <span class="who">
              <Visible text={approver.name} /> · <a href="/keys">passkeys</a> ·{' '}
              <form method="post" action="/console/signout">
                <button type="submit">Sign out</button>
              </form>
            </span>
          ) : null}
        </header>
        <main>
          {children}
          <p id="status" class="status" role="status"></p>
        </main>
      </body>
    </html>
  );
}

export const SignIn = () => (
  <Layout title="Sign in">
    <h1>Sign in</h1>
    <p>Approvers sign in with the passkey they enrolled. No password exists.</p>
    <button type="button" id="signin" data-action="signin">
      Sign in with a passkey
    </button>
  </Layout>
);

export const Enrol = ({ name, token }: { name: string; token: string }) => (
  <Layout title="Enrol a passkey">
    <h1>
      Enrol a passkey for <Visible text={name} />
    </h1>
    <p>This link works once. The passkey stays on your device; it signs every decision you make here.</p>
    <button type="button" id="enrol" data-action="enrol" data-token={token}>
      Create a passkey
    </button>
  </Layout>
);

export const Message = ({ title, text, approver }: { title: string; text: string; approver?: ApproverRecord }) => (
  <Layout title={title} approver={approver}>
    <h1>{title}</h1>
    <p>{text}</p>
  </Layout>
);

const until = (iso: string, now: number) => {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  return s <= 0 ? 'expired' : s < 120 ? `in ${s} s` : `in ${Math.round(s / 60)} min`;
};

export const Pending = ({ approver, requests, now }: { approver: ApproverRecord; requests: RequestView[]; now: number }) => (
  <Layout title="Pending requests" approver={approver}>
    <h1>Pending requests</h1>
    {requests.length === 0 ? (
      <p>Nothing is waiting for a decision.</p>
    ) : (
      <table class="list" id="pending">
        <thead>
          <tr>
            <th>Requested</th>
            <th>Action</th>
            <th>Environment</th>
            <th>Agent</th>
            <th>Purpose</th>
            <th>Approvals</th>
            <th>Expires</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((r) => (
            <tr data-approval={r.id}>
              <td>
                <a href={`/requests/${encodeURIComponent(r.id)}`}>{r.created_at}</a>
              </td>
              <td class="destructive">
                <Visible text={r.action.capability} />
              </td>
              <td>
                <Visible text={r.action.environment} />
              </td>
              <td>
                <Visible text={r.agent.name} />
              </td>
              <td>
                <Visible text={r.task.purpose} />
              </td>
              <td>
                {r.approvals.length} of {r.rule.quorum}
              </td>
              <td>{until(r.expires_at, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);

const BAD = /refus|stop|fail|error|denied|mismatch|substitution|revok/i;
const describe = (e: { kind: string; detail: Record<string, unknown> }) => `${e.kind} ${JSON.stringify(e.detail)}`;

export function RequestPage({ approver, r, isOwner, now }: { approver: ApproverRecord; r: RequestView; isOwner: boolean; now: number }) {
  const rows: [string, Child][] = [
    ['Action', <span class="destructive" id="capability"><Visible text={r.action.capability} /></span>],
    ['Resource', <span id="resource"><Visible text={r.action.resource} /></span>],
    ['Environment', <span id="environment"><Visible text={r.action.environment} /></span>],
    ['Agent', <span id="agent"><Visible text={r.agent.name} /> (<code><Visible text={r.agent.client_id} /></code>)</span>],
    ['Owner', <span id="owner"><Visible text={r.agent.owner} /></span>],
    ['Template', <span id="template"><Visible text={r.task.template} /></span>],
    ['Purpose', <span id="purpose"><Visible text={r.task.purpose} /></span>],
    ['Binding message', <span id="binding"><Visible text={r.binding_message ?? '—'} /></span>],
    ['Approvals', <span id="approvals">{r.approvals.length} of {r.rule.quorum} needed (from {r.rule.groups.join(', ')}; {r.rule.allow_owner ? 'the owner may approve' : 'never the owner'})</span>],
    ['Status', <span id="state">{r.status}{r.status_reason ? ` — ${r.status_reason}` : ''}</span>],
    ['Expires', <span id="expires">{r.expires_at} ({until(r.expires_at, now)})</span>],
    ['Digest', <code id="digest">{r.digest}</code>],
  ];
  return (
    <Layout title={`Request ${r.id}`} approver={approver}>
      <h1>
        <span class="destructive"><Visible text={r.action.capability} /></span> in <Visible text={r.action.environment} />
      </h1>
      <table id="request" data-approval={r.id}>
        <tbody>
          {rows.map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>The agent’s recent trajectory</h2>
      {r.task.trajectory.length === 0 ? (
        <p>No events.</p>
      ) : (
        <ol class="trajectory" id="trajectory">
          {r.task.trajectory.map((e) => (
            <li class={BAD.test(describe(e)) ? 'bad' : ''}>
              <code>{e.at}</code> <Visible text={describe(e)} />
            </li>
          ))}
        </ol>
      )}
      {r.status === 'pending' ? (
        <>
          {isOwner && !r.rule.allow_owner ? <p class="notice">You own the requesting agent: your approval will be refused.</p> : null}
          <p>Your decision is signed by your passkey over this request’s digest and your answer.</p>
          <div class="actions">
            <button type="button" class="approve" id="approve" data-action="decide" data-decision="approve" data-approval={r.id}>
              Approve
            </button>
            <button type="button" class="deny" id="deny" data-action="decide" data-decision="deny" data-approval={r.id}>
              Deny
            </button>
          </div>
        </>
      ) : null}
    </Layout>
  );
}

export const Keys = ({ approver, keys }: { approver: ApproverRecord; keys: ApproverKey[] }) => (
  <Layout title="Your keys" approver={approver}>
    <h1>Your keys</h1>
    <table class="list" id="keys">
      <thead>
        <tr>
          <th>Kind</th>
          <th>Key</th>
          <th>Added</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr>
            <td>{k.kind}</td>
            <td>
              <code>{k.kid}</code>
            </td>
            <td>{new Date(k.createdAt).toISOString()}</td>
            <td>
              <button type="button" data-action="keys" data-op="retire" data-kid={k.kid}>
                Retire
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    <p>
      <button type="button" id="add-passkey" data-action="keys" data-op="add">
        Add a passkey
      </button>{' '}
      (then retire the old one to rotate). Each change is confirmed with a passkey you already have.
    </p>
  </Layout>
);
