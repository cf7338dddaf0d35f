import { Option, type Command } from 'commander';
import { oneLine, operatorCall, operatorOptions, output, table, type OperatorOpts } from '../shared.js';

type Task = { id: string; status: string; status_reason: string | null; agent: string; template: string; environment: string; purpose: string; created_at: string; expires_at: string };
type Event = { at: string; kind: string; detail: Record<string, unknown> };

function detailText(t: Task & { events?: Event[] }): string {
  const lines = [
    `${t.id}  ${t.status}${t.status_reason ? ` (${oneLine(t.status_reason)})` : ''}`,
    `  agent:       ${t.agent}`,
    `  template:    ${t.template}`,
    `  environment: ${t.environment}`,
    `  purpose:     ${oneLine(t.purpose)}`,
    `  opened:      ${t.created_at}`,
    `  expires:     ${t.expires_at}`,
  ];
  if (t.events) {
    lines.push('  events:');
    for (const e of t.events) lines.push(`    ${e.at}  ${e.kind.padEnd(8)} ${oneLine(JSON.stringify(e.detail))}`);
  }
  return lines.join('\n');
}

const taskId = (id: string) => encodeURIComponent(id);

/** `stint tasks list|show|revoke`. */
export function register(program: Command): void {
  const tasks = program.command('tasks').description('list, inspect and revoke tasks (operator)');
  operatorOptions(
    tasks
      .command('list')
      .description('list tasks, newest first')
      .addOption(new Option('--status <status>', 'only tasks in this status').choices(['active', 'stopped', 'revoked', 'completed', 'expired']))
      .option('--agent <client_id>', "only this agent's tasks")
      .option('--environment <name>', 'only tasks in this environment')
      .option('--limit <n>', 'tasks per page', '50')
      .option('--cursor <cursor>', 'continue from a previous page (its next_cursor)')
      .option('--all', 'follow next_cursor to the end'),
  ).action(async (o: OperatorOpts & { status?: string; agent?: string; environment?: string; limit: string; cursor?: string; all?: boolean }) => {
    const all: Task[] = [];
    let cursor = o.cursor;
    let next: string | undefined;
    do {
      const q = new URLSearchParams({ limit: o.limit });
      for (const k of ['status', 'agent', 'environment'] as const) if (o[k]) q.set(k, o[k]!);
      if (cursor) q.set('cursor', cursor);
      const page = await operatorCall(o, 'GET', `/v1/tasks?${q}`);
      all.push(...page.tasks);
      next = page.next_cursor;
      cursor = next;
    } while (o.all && cursor);
    output(o.json, { tasks: all, ...(next ? { next_cursor: next } : {}) }, (d) =>
      d.tasks.length
        ? table([['TASK', 'STATUS', 'AGENT', 'TEMPLATE', 'ENVIRONMENT', 'OPENED', 'PURPOSE'], ...d.tasks.map((t) => [t.id, t.status, t.agent, t.template, t.environment, t.created_at, oneLine(t.purpose).slice(0, 60)])]) +
          (d.next_cursor ? `\nmore: --cursor ${d.next_cursor}` : '')
        : 'no tasks',
    );
  });
  operatorOptions(tasks.command('show').description('show a task and its events').argument('<task_id>', 'the task id')).action(async (id: string, o: OperatorOpts) => {
    output(o.json, await operatorCall(o, 'GET', `/v1/tasks/${taskId(id)}`), detailText);
  });
  operatorOptions(tasks.command('revoke').description('revoke a task: every token it holds stops working before this returns').argument('<task_id>', 'the task id')).action(
    async (id: string, o: OperatorOpts) => {
      output(o.json, await operatorCall(o, 'POST', `/v1/tasks/${taskId(id)}/revoke`), (t: Task) => `revoked: ${detailText(t)}`);
    },
  );
}
