import type { Command } from 'commander';
import { approvalUrl, readKeyFile } from '../approver-key.js';
import { renderApproval, reviewBeforeSigning } from '../render.js';
import { fail, oneLine, output } from '../shared.js';

// Every field shown is escaped (render.ts): an escape sequence in a purpose cannot repaint the action.
const summary = renderApproval;

interface Opts {
  key: string;
  url?: string;
  json?: boolean;
  status?: string;
  yes?: boolean;
}

async function client(o: Opts) {
  const k = readKeyFile(o.key);
  if (!k.approver_id) fail(`${o.key} has no approver_id: run "stint approvers add" first`);
  const { ApproverClient } = await import('../../client/approver.js');
  return new ApproverClient(approvalUrl(k, o.url), k.approver_id!, k);
}

function show(o: Opts, r: { status: number; body: any }, render: (b: any) => string) {
  if (r.status >= 400) fail(`${r.status} ${r.body.error ?? ''}: ${oneLine(String(r.body.detail ?? ''))}`);
  output(o.json, r.body, render);
}

/** `stint approvals list|show|approve|deny`: an approver decides from a terminal. */
export function register(program: Command): void {
  const approvals = program.command('approvals').description("decide approval requests with an approver's key");
  const common = (c: Command) =>
    c
      .requiredOption('--key <file>', 'the approver key file ("stint keygen", then "stint approvers add")')
      .option('--url <url>', "the approval service (default: the key file's, $STINT_APPROVAL_URL or http://127.0.0.1:8788)")
      .option('--json', 'print JSON for programs instead of text');
  common(approvals.command('list').description('list approval requests').option('--status <status>', 'pending, approved, denied, expired or voided', 'pending')).action(async (o: Opts) =>
    show(o, await (await client(o)).list(o.status ?? 'pending'), (b) => (b.approvals.length ? b.approvals.map(summary).join('\n\n') : `no ${o.status} approvals`)),
  );
  common(approvals.command('show').description('show one approval request in full').argument('<id>', 'the approval request id')).action(async (id: string, o: Opts) =>
    show(o, await (await client(o)).show(id), summary),
  );
  for (const verdict of ['approve', 'deny'] as const) {
    common(approvals.command(verdict).description(`${verdict} a request (shows it, then signs its digest with your key)`).argument('<id>', 'the approval request id'))
      .option('--yes', 'do not ask for confirmation on a terminal (the request is still shown first)')
      .action(async (id: string, o: Opts) =>
        show(o, await (await client(o)).decide(id, verdict, (a) => reviewBeforeSigning(a, verdict, { yes: o.yes })), (b) => `${verdict === 'approve' ? 'approved' : 'denied'}: ${summary(b)}`),
      );
  }
}
