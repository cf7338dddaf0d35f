import type { Command } from 'commander';
import { fail, operatorCall, operatorOptions, output, type OperatorOpts } from '../shared.js';

/** `stint revoke --agent|--environment|--all`: every token in the scope stops working. */
export function register(program: Command): void {
  operatorOptions(
    program
      .command('revoke')
      .description("revoke every task and token of an agent, an environment, or everything (use 'tasks revoke' for one task)")
      .option('--agent <client_id>', "every task of this agent")
      .option('--environment <name>', 'every task in this environment')
      .option('--all', 'every task of every agent'),
  ).action(async (o: OperatorOpts & { agent?: string; environment?: string; all?: boolean }) => {
    const chosen = [o.agent !== undefined, o.environment !== undefined, !!o.all].filter(Boolean).length;
    if (chosen !== 1) fail('give exactly one of --agent <client_id>, --environment <name> or --all');
    const scope = o.agent !== undefined ? { agent: o.agent } : o.environment !== undefined ? { environment: o.environment } : { all: true };
    const body = await operatorCall(o, 'POST', '/v1/revocations', scope);
    output(o.json, body, (b) => `revoked ${b.scope}: tokens issued at or before ${b.epoch} no longer work`);
  });
}
