// How the approver's command line shows an approval request. Every field that came from an agent
// (or from anyone else) goes through `printable`, so what the terminal shows is what was sent:
// an escape sequence in a purpose cannot repaint the action line.
import { createInterface } from 'node:readline/promises';
import { printable } from '../core/text.js';

export { printable };

const p = printable;

/** The request as a person reads it: action, resource, environment, agent, owner, purpose, trajectory. */
export function renderApproval(a: any): string {
  const lines = [
    `${p(a.id)}  ${p(a.status)}${a.status_reason ? ` (${p(a.status_reason)})` : ''}`,
    `  action:   ${p(a.action?.capability)} on ${p(a.action?.resource)} in ${p(a.action?.environment)}`,
    `  agent:    ${p(a.agent?.name)} (${p(a.agent?.client_id)}), owner ${p(a.agent?.owner)}`,
    `  task:     ${p(a.task?.id)} ${p(a.task?.template)}: ${p(a.task?.purpose)}`,
    `  needs:    ${p(a.rule?.quorum)} approval(s) from ${(a.rule?.groups ?? []).map(p).join(', ')}${a.rule?.allow_owner ? '' : ', not the owner'}; has ${p(a.approvals?.length ?? 0)}`,
  ];
  if (a.binding_message) lines.push(`  message:  ${p(a.binding_message)}`);
  lines.push(`  expires:  ${p(a.expires_at)}`, '  trajectory:');
  for (const e of a.task?.trajectory ?? []) {
    const d = e.detail ?? {};
    lines.push(`    ${p(e.at)}  ${p(e.kind).padEnd(8)} ${p(d.type ?? '')} ${d.reason !== undefined ? p(d.reason) : (Array.isArray(d.capabilities) ? d.capabilities : []).map(p).join(' ')}`);
  }
  if (a.task?.trajectory_omitted) lines.push(`    … ${p(a.task.trajectory_omitted)} earlier event(s) not shown`);
  lines.push(`  digest:   ${p(a.digest)}`);
  return lines.join('\n');
}

/**
 * Shown before an approver signs: the request as the service holds it now (the digest signed is
 * this one's). On a terminal the approver confirms; otherwise (`--yes`, scripts) it is printed
 * to stderr and the decision goes ahead.
 */
export async function reviewBeforeSigning(a: any, decision: 'approve' | 'deny', opts: { yes?: boolean } = {}): Promise<boolean> {
  process.stderr.write(`${decision === 'approve' ? 'approving' : 'denying'}:\n${renderApproval(a)}\n`);
  if (opts.yes || !process.stdin.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${decision} this request? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
