import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/guard/analyze.js';
import { OutOfTime, within } from '../../src/guard/bounded.js';
import { ADAPTERS } from '../../src/guard/adapters/index.js';
import { scanContent, scanUrls } from '../../src/guard/secrets.js';
import { claudeBash, guardStack, RAILWAY_TOKEN } from './helpers.js';

// The attack: one huge header of `a-a-a-…` beside the incident's call. The credential scanner's
// expressions used to be quadratic on it (24 s), past every harness's time-out: fail open.
const HUGE = `X-Pad: ${'a-'.repeat(75_000)}`;
const INCIDENT = `curl -X POST https://backboard.railway.app/graphql/v2 -H "${HUGE}" -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`;

describe('the guard always answers within its deadline', () => {
  it('the 150 KB a-a-a header beside the incident: analysed to the end (a stop), within the default 2 s deadline', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash(INCIDENT, s.cwd), { deadlineMs: 2000 });
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/substitution/);
  });

  it('pathological scanner inputs are read to the end (they used to be quadratic)', () => {
    const own = { tokens: new Set<string>() };
    for (const text of ['a-'.repeat(75_000), 'eyJaaaaaaaaa-'.repeat(12_000), 'sk-'.repeat(50_000), ' '.repeat(150_000) + '#', '\n'.repeat(150_000), '/*'.repeat(75_000)]) {
      // each under a hard 1.5 s limit: OutOfTime would fail the test
      expect(within(1500, () => scanContent(`${text}\nTOKEN=${RAILWAY_TOKEN}`, 'file', own)).length).toBeGreaterThan(0);
      expect(within(1500, () => scanUrls(text, own))).toEqual([]);
    }
  });

  it('synchronous work that cannot finish is cut off where it stands (a regular expression, not a timer)', () => {
    expect(() => within(50, () => /(a+)+$/.test(`${'a'.repeat(40)}b`))).toThrow(OutOfTime);
    // and the thread is usable afterwards
    expect(within(1000, () => 1 + 1)).toBe(2);
  });

  it('analysis past the deadline → blocked as uncertain, never allowed, never a stop', async () => {
    const s = await guardStack();
    const ev = ADAPTERS['claude-code'].parse(claudeBash(INCIDENT, s.cwd));
    const facts = await analyze(ev, { own: { tokens: new Set() }, env: {}, deadline: performance.now() - 1 });
    expect(facts.uncertain).toMatch(/did not finish within/);
    expect(facts.credentials).toEqual([]);
    const r = await s.guard('claude-code', claudeBash(INCIDENT, s.cwd), { deadlineMs: 0 });
    expect(r.answer.kind).toBe('block');
    expect(r.rendered.exitCode).toBe(2);
    expect((await s.task()).status).toBe('active');
  });
});
