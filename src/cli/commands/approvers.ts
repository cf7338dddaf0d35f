import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { approvalUrl, readKeyFile } from '../approver-key.js';
import { fail, oneLine, output } from '../shared.js';

/** `stint approvers add`: registers an approver's public key with the approval service. */
export function register(program: Command): void {
  const approvers = program.command('approvers').description('register approvers with the approval service');
  approvers
    .command('add')
    .description('register the public key in --key as an approver and save its id into the key file')
    .requiredOption('--name <name>', "the approver's name (matched against agents' owners)")
    .requiredOption('--groups <g1,g2>', 'comma-separated approver groups')
    .requiredOption('--key <file>', 'a key file written by "stint keygen"')
    .option('--url <url>', 'the approval service (default: $STINT_APPROVAL_URL or http://127.0.0.1:8788)')
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', '\nAuthenticates with $STINT_APPROVAL_ADMIN_TOKEN.')
    .action(async (o: { name: string; groups: string; key: string; url?: string; json?: boolean }) => {
      const k = readKeyFile(o.key);
      const token = process.env.STINT_APPROVAL_ADMIN_TOKEN ?? fail('set STINT_APPROVAL_ADMIN_TOKEN');
      const url = approvalUrl(k, o.url);
      const groups = o.groups.split(',').map((g) => g.trim()).filter(Boolean);
      let res: Response;
      try {
        res = await fetch(`${url}/v1/approvers`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: o.name, groups, jwk: k.public_jwk }),
        });
      } catch (e) {
        return fail(`cannot reach the approval service at ${url}: ${(e as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as any;
      if (res.status !== 201) fail(`${res.status} ${oneLine(String(body.detail ?? JSON.stringify(body)))}`);
      writeFileSync(o.key, `${JSON.stringify({ ...k, approver_id: body.approver_id, url }, null, 2)}\n`, { mode: 0o600 });
      output(o.json, body, () => `registered ${o.name} as ${body.approver_id}; saved to ${o.key}`);
    });
}
