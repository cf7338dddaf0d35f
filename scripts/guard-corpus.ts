// The guard against its corpus (test/guard/corpus/*.jsonl), as the harnesses run it: each call
// through the BUILT hook (dist/hook/stint-guard.mjs, the command `stint guard install` writes),
// spawned through a shell with the event on stdin, against a real broker with the default policy.
// Prints a table per harness and per channel, the entries that missed their label, and the
// hook's p50/p99 beside a bare `node -e ""` spawned interleaved in the same run.
// Run: npm run corpus:guard            (builds the hook first)
//      CORPUS_IN_PROCESS=1 npm run corpus:guard   (the same analysis in this process, no timing)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, corpusWorkspace } from '../test/guard/corpus/workspace.js';
import { corpusBroker, runCorpus, runInProcess, runSpawned } from '../test/guard/corpus/drive.js';
import { misses, percentile, table, tally } from '../test/guard/corpus/score.js';

const inProcess = process.env.CORPUS_IN_PROCESS === '1';
// the warm guard's socket in a directory of this run's (removed at the end: the warm guard leaves)
const runtime = mkdtempSync(join(tmpdir(), 'stint-corpus-run-'));
process.env.XDG_RUNTIME_DIR = runtime;
const only = process.env.CORPUS_ONLY ? new RegExp(process.env.CORPUS_ONLY) : undefined;
const entries = loadCorpus().filter((e) => !only || only.test(e.id) || only.test(e.channel));
const v = corpusWorkspace();
const broker = await corpusBroker();
let done = 0;
// CORPUS_BREAKDOWN=0 leaves out the third spawn (the hook with no current task: Node's start, the
// bundle, stdin and the answer, without analysis or the broker's round trip)
const breakdown = process.env.CORPUS_BREAKDOWN !== '0';
const results = await runCorpus(entries, v, broker, (e, t) => (inProcess ? runInProcess(e, v, t) : runSpawned(e, v, t, {}, breakdown)), () => {
  if (++done % 25 === 0) process.stderr.write(`${done}/${entries.length}\n`);
});
broker.close();

const benign = results.filter((r) => r.entry.kind === 'benign');
const attacks = results.filter((r) => r.entry.kind === 'attack');
console.log(`\n# stint guard corpus: ${results.length} calls (${benign.length} benign, ${attacks.length} attacks, ${results.length - benign.length - attacks.length} egress-only), ${inProcess ? 'in process (runGuard)' : 'through the built hook, spawned as each harness runs it'}, default policy, staging task\n`);
console.log(table('harness', tally(results, (r) => r.entry.harness)));
console.log('');
console.log(table('channel', tally(results, (r) => (r.entry.kind === 'benign' ? `benign: ${r.entry.channel}` : r.entry.channel))));
const wrong = misses(results);
console.log(`\n## entries not answered as labelled (${wrong.length})\n`);
for (const r of wrong) console.log(`- ${r.entry.id} [${r.entry.harness}, ${r.entry.channel}] expected ${r.entry.expected}, got ${r.outcome}${r.timedOut ? ' (timed out)' : ''}: ${r.entry.why} — ${r.reason.slice(0, 200)}`);
if (!inProcess) {
  const ms = results.map((r) => r.ms!).filter(Number.isFinite);
  const bare = results.map((r) => r.bareMs!).filter(Number.isFinite);
  const [p50, p99, b50, b99] = [percentile(ms, 50), percentile(ms, 99), percentile(bare, 50), percentile(bare, 99)];
  const start = results.map((r) => r.startMs!).filter(Number.isFinite);
  console.log(`\n## timing (${ms.length} calls, each beside a bare node spawned just before it${start.length ? ' and the hook with no task' : ''}, all through /bin/sh -c; the broker runs in this process)\n`);
  console.log('| | p50 | p99 | max |');
  console.log('|---|---|---|---|');
  console.log(`| stint guard (built hook) | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${Math.max(...ms).toFixed(1)} ms |`);
  if (start.length) console.log(`| the same hook with no current task (start and answer only) | ${percentile(start, 50).toFixed(1)} ms | ${percentile(start, 99).toFixed(1)} ms | ${Math.max(...start).toFixed(1)} ms |`);
  console.log(`| bare \`node -e ""\` | ${b50.toFixed(1)} ms | ${b99.toFixed(1)} ms | ${Math.max(...bare).toFixed(1)} ms |`);
  console.log(`\np50 ratio ${(p50 / b50).toFixed(2)}× (target ≤ 1.5×), p99 ${p99.toFixed(0)} ms (target ≤ 250 ms); timed out: ${results.filter((r) => r.timedOut).length}. Node ${process.version}, ${new Date().toISOString()}`);
}
rmSync(runtime, { recursive: true, force: true });
process.exit(0);
