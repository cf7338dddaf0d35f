import { resolve } from 'node:path';
import type { Command } from 'commander';
import { fail, oneLine, output } from '../shared.js';

/** `stint policy check [dir]`: validates a policy folder as `npm start` would, offline. */
export function register(program: Command): void {
  const policy = program.command('policy').description('work with policy files');
  policy
    .command('check')
    .description('validate a policy folder (schema, references between templates, capabilities and environments)')
    .argument('[dir]', 'the policy folder (default: $STINT_POLICIES or ./policies)')
    .option('--json', 'print JSON for programs instead of text')
    // The policy loader (zod, yaml) is loaded only when the command runs: `--help` stays quick.
    .action(async (dir: string | undefined, o: { json?: boolean }) => {
      const [{ PolicyError }, { loadPolicyDir }] = await Promise.all([import('../../policy/load.js'), import('../../policy/node.js')]);
      const path = resolve(dir ?? process.env.STINT_POLICIES ?? './policies');
      let p;
      try {
        p = loadPolicyDir(path);
      } catch (e) {
        if (e instanceof PolicyError) return fail(`invalid policy in ${path}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}: ${e.problems.map((p) => oneLine(`${p.file}:${p.line}: ${p.field || '(file)'}: ${p.reason}`)).join('; ')}`);
        return fail(`cannot read policy in ${path}: ${oneLine((e as Error).message)}`);
      }
      const counts = {
        ok: true,
        dir: path,
        templates: Object.keys(p.templates).length,
        capabilities: Object.keys(p.capabilities).length,
        environments: Object.keys(p.environments).length,
      };
      output(o.json, counts, (c) => `policy ok: ${c.dir} (${c.templates} templates, ${c.capabilities} capabilities, ${c.environments} environments)`);
    });
}
