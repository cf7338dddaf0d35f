// `stint replay <file> --template T --environment E [--policies dir] [--harness H] [--json]`:
// a recorded session judged offline against a policy (src/guard/replay.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { HARNESSES } from '../../guard/adapters/index.js';
import type { Harness } from '../../guard/event.js';
import { fail, oneLine, output, table } from '../shared.js';

interface Opts {
  template: string;
  environment: string;
  policies?: string;
  harness?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('judge a recorded session offline: one decision per tool call and a digest that is the same on every run (no broker, no network)')
    .argument('<file>', 'a Claude Code transcript (JSONL), or a JSONL of hook events of any supported harness')
    .requiredOption('--template <name>', 'the task template to judge it under')
    .requiredOption('--environment <name>', "the task's environment")
    .option('--policies <dir>', 'the policy folder (default: $STINT_POLICIES or ./policies)')
    .option('--harness <name>', `the harness of hook-event lines (${HARNESSES.join(', ')}; default: told by each event's name)`)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', '\nEvery rule is judged as enforcement would judge it (policy mode and rule modes aside), and the replayed task is never stopped, so every call gets a decision. Exit 0 once replayed; 2 when the file, policy, template or environment cannot be used.')
    // the analysis and the policy loader are loaded only when the command runs: `--help` stays quick
    .action(async (file: string, o: Opts) => {
      if (o.harness !== undefined && !HARNESSES.includes(o.harness as Harness)) return fail(`unknown harness "${o.harness}" (one of ${HARNESSES.join(', ')})`);
      const [{ PolicyError }, { loadPolicyDir }, { replay, ReplayError }] = await Promise.all([import('../../policy/load.js'), import('../../policy/node.js'), import('../../guard/replay.js')]);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        return fail(`cannot read ${file}: ${oneLine((e as Error).message)}`);
      }
      const dir = resolve(o.policies ?? process.env.STINT_POLICIES ?? './policies');
      let policy;
      try {
        policy = loadPolicyDir(dir);
      } catch (e) {
        if (e instanceof PolicyError) return fail(`invalid policy in ${dir}: ${e.problems.map((p) => oneLine(`${p.file}:${p.line}: ${p.field || '(file)'}: ${p.reason}`)).join('; ')}`);
        return fail(`cannot read policy in ${dir}: ${oneLine((e as Error).message)}`);
      }
      let result;
      try {
        result = await replay({ text, policy, template: o.template, environment: o.environment, harness: o.harness as Harness | undefined });
      } catch (e) {
        if (e instanceof ReplayError) return fail(`${file}: ${e.message}`);
        throw e;
      }
      output(o.json, result, (r) => {
        const rows = r.decisions.map((d) => [`#${d.call}`, `line ${d.line}`, oneLine(d.tool), d.decision, d.rule ?? '', d.decision === 'allow' ? '' : oneLine(d.reason).slice(0, 200)]);
        const counts = Object.entries(r.counts).map(([k, n]) => `${n} ${k}`).join(', ');
        const lines = table([['CALL', 'LINE', 'TOOL', 'DECISION', 'RULE', 'REASON'], ...rows]).split('\n').map((l) => l.trimEnd()).join('\n');
        return `${rows.length ? `${lines}\n\n` : ''}${r.decisions.length} tool call${r.decisions.length === 1 ? '' : 's'}: ${counts}\ndigest sha256:${r.digest}`;
      });
    });
}
