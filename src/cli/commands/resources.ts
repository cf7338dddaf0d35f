import type { Command } from 'commander';
import { operatorCall, operatorOptions, output, type OperatorOpts } from '../shared.js';

/** `stint resources add`. */
export function register(program: Command): void {
  const resources = program.command('resources').description('register resource services (operator)');
  operatorOptions(
    resources
      .command('add')
      .description('register a resource service that may introspect, follow events and report signals; prints its client_id and secret once')
      .requiredOption('--name <name>', "the service's name")
      .requiredOption('--audience <url>', 'the audience (URL) its capability tokens are issued for'),
  ).action(async (o: OperatorOpts & { name: string; audience: string }) => {
    const body = await operatorCall(o, 'POST', '/v1/resources', { name: o.name, audience: o.audience });
    const serves = (r: { environment?: string | null }) =>
      r.environment ? `serves ${r.environment}` : "serves no environment of the policy: it cannot report environment_mismatch (add its host to an environment's hosts)";
    output(o.json, body, (r) => `registered ${r.name} for ${r.audience} (${serves(r)})\nclient_id:     ${r.client_id}\nclient_secret: ${r.client_secret}\n(shown once; it authenticates with HTTP Basic)`);
  });
}
