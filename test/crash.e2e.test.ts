import { describe, expect, it } from 'vitest';
import { crashTest } from '../scripts/crash.js';

// The short form of `npm run crash`: SIGKILL under load, restart, nothing acknowledged lost.
describe('crash safety', () => {
  it('loses no acknowledged revocation, stop, token or grant consumption across SIGKILLs', async () => {
    const r = await crashTest({ kills: Number(process.env.CRASH_KILLS ?? 3) });
    expect(r.issued).toBeGreaterThan(0);
    expect(r.lost).toEqual({ revocations: 0, stops: 0, issuedMissingFromAudit: 0, grantsUsedTwice: 0, chainBroken: 0 });
  }, 240_000);
});
