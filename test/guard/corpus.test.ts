import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subprocessCommands } from '../../src/guard/analyze.js';
import { within } from '../../src/guard/bounded.js';
import { isReference, parseDotenv, scanContent, scanHeaderText } from '../../src/guard/secrets.js';
import { corpusBroker, runCorpus, runInProcess, runSpawned, type Result } from './corpus/drive.js';
import { misses, tally } from './corpus/score.js';
import { corpusWorkspace, loadCorpus, type CorpusVars } from './corpus/workspace.js';

// Issue 19's measure: a corpus of realistic calls (test/guard/corpus/*.jsonl: the four harnesses'
// benign sessions and attacks by channel), every call through the hook's analysis against a real
// broker with the default policy; a sample through the BUILT hook, spawned as each harness runs it.
// Targets: 0 false stops, ≤ 1% of benign calls blocked, every attack a hook can see caught.
const root = new URL('../../', import.meta.url).pathname;
const entries = loadCorpus();
let v: CorpusVars;
let broker: Awaited<ReturnType<typeof corpusBroker>>;
const show = (rs: Result[]) => rs.map((r) => `${r.entry.id} [${r.entry.channel}] expected ${r.entry.expected}, got ${r.outcome}: ${r.entry.why} — ${r.reason.slice(0, 160)}`).join('\n');

beforeAll(async () => {
  v = corpusWorkspace();
  broker = await corpusBroker();
}, 120_000);
afterAll(() => broker?.close());

describe('the guard against its corpus', () => {
  it('is a corpus of at least 300 labelled calls from every harness', () => {
    expect(entries.length).toBeGreaterThanOrEqual(300);
    for (const h of ['claude-code', 'codex', 'cursor', 'gemini']) {
      expect(entries.filter((e) => e.harness === h && e.kind === 'benign').length).toBeGreaterThanOrEqual(40);
      expect(entries.filter((e) => e.harness === h && e.kind === 'attack').length).toBeGreaterThanOrEqual(30);
    }
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (const e of entries) expect(e.why.length, e.id).toBeGreaterThan(0);
  });

  it('every call in process: 0 false stops, ≤ 1% of benign calls blocked, every visible attack caught as labelled', async () => {
    const results = await runCorpus(entries, v, broker, (e, t) => runInProcess(e, v, t));
    const benign = results.filter((r) => r.entry.kind === 'benign');
    const attacks = results.filter((r) => r.entry.kind === 'attack');
    expect(show(benign.filter((r) => r.outcome === 'stop'))).toBe('');
    expect(benign.filter((r) => r.outcome !== 'allow').length, show(benign.filter((r) => r.outcome !== 'allow'))).toBeLessThanOrEqual(Math.floor(benign.length / 100));
    expect(show(attacks.filter((r) => r.outcome === 'allow'))).toBe('');
    // a stop only where a stop is due (proof), a block where the call is a read or a doubt
    expect(show(misses(results))).toBe('');
    const all = tally(results, () => 'all').at(-1)!;
    expect(all.attacks).toBe(all.caught);
  }, 600_000);

  it('a sample through the built hook, spawned with the command `stint guard install` writes, answers the same', async () => {
    const build = spawnSync('node', ['--import', 'tsx', 'scripts/build-guard.ts'], { cwd: root });
    if (build.status !== 0) throw new Error(`build:guard failed: ${build.stderr}`);
    // per harness: the first benign calls of each kind, and one attack of each channel
    const pick = new Map<string, (typeof entries)[number]>();
    for (const e of entries) {
      const k = e.kind === 'benign' ? `${e.harness}:${e.channel}` : `attack:${e.channel}`;
      if (!pick.has(k) && e.kind !== 'egress') pick.set(k, e);
    }
    const sample = [...pick.values()];
    expect(sample.length).toBeGreaterThanOrEqual(40);
    // a generous deadline: this checks what the bundle decides, not how fast (a loaded CI machine)
    const results = await runCorpus(sample, v, broker, (e, t) => runSpawned(e, v, t, { STINT_GUARD_DEADLINE_MS: '8000' }));
    expect(show(results.filter((r) => r.outcome !== r.entry.expected))).toBe('');
  }, 600_000);

  it('the scanners added for the corpus read pathological input to the end (linear)', () => {
    const own = { tokens: new Set<string>() };
    const inputs = ['authorization:'.repeat(12_000), `Authorization: ${' '.repeat(150_000)}x`, 'os.system("'.repeat(15_000), 'subprocess.run(['.repeat(10_000) + '"a",'.repeat(20_000), 'a.b('.repeat(40_000), 'KEY=' + 'a,'.repeat(75_000), 'x-'.repeat(75_000) + 'xxx'];
    for (const text of inputs) {
      // each under a hard limit: OutOfTime would fail the test
      within(1500, () => scanHeaderText(text, own));
      within(1500, () => subprocessCommands(text));
      within(1500, () => isReference(text.slice(0, 512)));
      within(1500, () => parseDotenv(text));
      within(1500, () => scanContent(text, 'file', own));
    }
  });
});
