import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApproverKeyFile } from '../../client/approver.js';
import { approvalUrl, readKeyFile } from '../approver-key.js';
import { fail, oneLine, output } from '../shared.js';

const ADMIN_HELP = '\nAuthenticates with $STINT_APPROVAL_ADMIN_TOKEN.';
const URL_HELP = 'the approval service (default: $STINT_APPROVAL_URL or http://127.0.0.1:8788)';

/** One call to the approval service as its admin; the answer's JSON, or a one-line failure. */
async function adminCall(url: string, method: string, path: string, expected: number, body?: unknown): Promise<any> {
  const token = process.env.STINT_APPROVAL_ADMIN_TOKEN ?? fail('set STINT_APPROVAL_ADMIN_TOKEN');
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return fail(`cannot reach the approval service at ${url}: ${(e as Error).message}`);
  }
  const json = res.status === 204 ? {} : ((await res.json().catch(() => ({}))) as any);
  if (res.status !== expected) fail(`${res.status} ${oneLine(String(json.detail ?? json.error_description ?? JSON.stringify(json)))}`);
  return json;
}
const serviceUrl = (url?: string) => approvalUrl({} as ApproverKeyFile, url);

/**
 * `stint approvers …`: the approval admin's commands. Approvers with a key file (the JWK path,
 * `approvals approve` from a terminal) or with a passkey (the console: register without --key,
 * then send them `approvers enrol`'s one-time link); webhooks that announce new requests.
 */
export function register(program: Command): void {
  const approvers = program.command('approvers').description('register approvers, enrolment links and webhooks with the approval service');
  approvers
    .command('add')
    .description('register an approver: with --key, that public key (its id is saved into the key file); without, a passkey approver to enrol')
    .requiredOption('--name <name>', "the approver's name (matched against agents' owners)")
    .requiredOption('--groups <g1,g2>', 'comma-separated approver groups')
    .option('--key <file>', 'a key file written by "stint keygen" (omit for a passkey approver)')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', ADMIN_HELP)
    .action(async (o: { name: string; groups: string; key?: string; url?: string; json?: boolean }) => {
      const k = o.key ? readKeyFile(o.key) : undefined;
      const url = k ? approvalUrl(k, o.url) : serviceUrl(o.url);
      const groups = o.groups.split(',').map((g) => g.trim()).filter(Boolean);
      const body = await adminCall(url, 'POST', '/v1/approvers', 201, { name: o.name, groups, ...(k ? { jwk: k.public_jwk } : {}) });
      if (k && o.key) writeFileSync(o.key, `${JSON.stringify({ ...k, approver_id: body.approver_id, url }, null, 2)}\n`, { mode: 0o600 });
      output(o.json, body, () =>
        k ? `registered ${o.name} as ${body.approver_id}; saved to ${o.key}` : `registered ${o.name} as ${body.approver_id}; send them a passkey enrolment link: stint approvers enrol ${body.approver_id}`,
      );
    });
  approvers
    .command('enrol')
    .description('a one-time link (24 h) with which the approver creates a passkey on the console')
    .argument('<approver_id>')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', `${ADMIN_HELP}\nThe link is a credential until used: send it to the approver only.`)
    .action(async (id: string, o: { url?: string; json?: boolean }) => {
      const body = await adminCall(serviceUrl(o.url), 'POST', `/v1/approvers/${encodeURIComponent(id)}/enrolment`, 201);
      output(o.json, body, () => `${body.url}\n(valid ${Math.round(body.expires_in / 3600)} h, once)`);
    });
  approvers
    .command('list')
    .description('registered approvers and their live keys')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', ADMIN_HELP)
    .action(async (o: { url?: string; json?: boolean }) => {
      const body = await adminCall(serviceUrl(o.url), 'GET', '/v1/approvers', 200);
      output(o.json, body, (b: any) =>
        (b.approvers ?? []).map((a: any) => `${a.approver_id ?? a.id}  ${oneLine(String(a.name))}  [${(a.groups ?? []).join(',')}]  ${(a.keys ?? []).map((k: any) => k.kind).join(',') || 'no key: enrol a passkey'}`).join('\n') || 'no approvers',
      );
    });

  const hooks = approvers.command('webhooks').description('where new approval requests are announced (signed notices, no secret)');
  hooks
    .command('add')
    .description('announce new requests to this https URL (not on this machine or a private network)')
    .argument('<url>')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', ADMIN_HELP)
    .action(async (hook: string, o: { url?: string; json?: boolean }) => {
      const body = await adminCall(serviceUrl(o.url), 'POST', '/v1/webhooks', 201, { url: hook });
      output(o.json, body, () => `added ${body.id}: ${body.url}`);
    });
  hooks
    .command('list')
    .description('registered webhooks')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', ADMIN_HELP)
    .action(async (o: { url?: string; json?: boolean }) => {
      const body = await adminCall(serviceUrl(o.url), 'GET', '/v1/webhooks', 200);
      output(o.json, body, (b: any) => b.webhooks.map((w: any) => `${w.id}  ${w.url}`).join('\n') || 'no webhooks');
    });
  hooks
    .command('remove')
    .description('stop announcing to a webhook')
    .argument('<id>')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', ADMIN_HELP)
    .action(async (id: string, o: { url?: string; json?: boolean }) => {
      await adminCall(serviceUrl(o.url), 'DELETE', `/v1/webhooks/${encodeURIComponent(id)}`, 204);
      output(o.json, { removed: id }, () => `removed ${id}`);
    });
}
