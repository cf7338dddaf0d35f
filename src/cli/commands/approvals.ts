import type { Command } from 'commander';
import { approvalUrl, readKeyFile } from '../approver-key.js';
import { fail, oneLine, output } from '../shared.js';

function summary(a: any): string {
  const lines = [
    `${a.id}  ${a.status}${a.status_reason ? ` (${oneLine(a.status_reason)})` : ''}`,
    `  action:   ${a.action.capability} on ${a.action.resource} in ${a.action.environment}`,
    `  agent:    ${a.agent.name} (${a.agent.client_id}), owner ${a.agent.owner}`,
    `  task:     ${a.task.id} ${a.task.template}: ${oneLine(a.task.purpose)}`,
    `  needs:    ${a.rule.quorum} approval(s) from ${a.rule.groups.join(', ')}${a.rule.allow_owner ? '' : ', not the owner'}; has ${a.approvals.length}`,
  ];
  if (a.binding_message) lines.push(`  message:  ${oneLine(a.binding_message)}`);
  lines.push(`  expires:  ${a.expires_at}`, '  trajectory:');
  for (const e of a.task.trajectory) lines.push(`    ${e.at}  ${e.kind.padEnd(8)} ${e.detail.type ?? ''} ${oneLine(String(e.detail.reason ?? (e.detail.capabilities ?? []).join(' ')))}`);
  lines.push(`  digest:   ${a.digest}`);
  return lines.join('\n');
}

interface Opts {
  key: string;
  url?: string;
  json?: boolean;
  status?: string;
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
    common(approvals.command(verdict).description(`${verdict} a request (signs its digest with your key)`).argument('<id>', 'the approval request id')).action(async (id: string, o: Opts) =>
      show(o, await (await client(o)).decide(id, verdict), (b) => `${verdict === 'approve' ? 'approved' : 'denied'}: ${summary(b)}`),
    );
  }
}
