import type { Command } from 'commander';
import { fail, operatorCall, operatorOptions, output, table, type OperatorOpts } from '../shared.js';

/** Reads the whole of stdin (a value is never an argument: arguments show in `ps` and shell history). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) fail('pipe the value on stdin (for example: stint vault put NAME … < token.txt)');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `stint vault put|list`: provider credentials in custody (operator). */
export function register(program: Command): void {
  const vault = program.command('vault').description("provider credentials in stint's custody, injected by `stint run`'s egress proxy (operator)");
  operatorOptions(
    vault
      .command('put <name>')
      .description('store a provider credential (the value on stdin), bound to hosts and an environment; never shown again')
      .requiredOption('--environment <environment>', 'the environment it acts on')
      .requiredOption('--host <hosts>', 'host names it is sent to, comma-separated (*.example.com allowed)')
      .option('--header <header>', 'a header the proxy sets on requests that carry no credential, e.g. Authorization')
      .option('--scheme <scheme>', "that header's scheme, e.g. Bearer"),
  ).action(async (name: string, o: OperatorOpts & { environment: string; host: string; header?: string; scheme?: string }) => {
    const value = await readStdin();
    if (!value) fail('no value on stdin');
    const hosts = o.host.split(',').map((h) => h.trim()).filter(Boolean);
    const body = await operatorCall(o, 'POST', '/v1/custody', { name, environment: o.environment, hosts, ...(o.header ? { header: o.header } : {}), ...(o.scheme ? { scheme: o.scheme } : {}), value });
    output(o.json, body, (r) => `stored ${r.name} for ${r.hosts.join(', ')} in ${r.environment}${r.header ? ` (sets ${r.header}${r.scheme ? `: ${r.scheme} …` : ''})` : ''}`);
  });
  operatorOptions(vault.command('list').description('custody entries: names, hosts, environments (never values)')).action(async (o: OperatorOpts) => {
    const body = await operatorCall(o, 'GET', '/v1/custody');
    output(o.json, body, (r) => (r.custody.length ? table([['NAME', 'ENVIRONMENT', 'HOSTS', 'HEADER'], ...r.custody.map((e: any) => [e.name, e.environment, e.hosts.join(','), e.header ? `${e.header}${e.scheme ? ` ${e.scheme}` : ''}` : '-'])]) : 'no custody entries'));
  });
}
