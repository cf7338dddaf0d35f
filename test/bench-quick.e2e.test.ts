import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `npm run bench` in its short form (QUICK=1: 2 s runs, no warm-up, small stop and history
// runs), so that the bench cannot rot again (issue 18 item 4). Only that it runs to the end and
// prints its whole table is checked here: its figures are the bench's, never a test's.
describe('QUICK=1 npm run bench', () => {
  it('runs to the end and prints every row of its table', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'bench'], { env: { ...process.env, QUICK: '1' }, maxBuffer: 1 << 26, timeout: 400_000 });
    for (const row of [
      '| stint: open a task',
      '| stint: capability token (RFC 8693 exchange',
      '| oidc-provider 9.13: client_credentials',
      '| stint: capability token at a fixed 500 req/s',
      '| stint: introspection',
      '| stint: offline verification in a resource service',
      '| substitution report → presenting task',
      '| substitution report → subscribed verifier rejects it',
      '| sampled tokens still active afterwards | 0 of',
      '| SQLite, one broker |',
      '| PostgreSQL, one broker |',
      '| PostgreSQL, two brokers on one database |',
      'verifiers reconnect with `?from=recent`',
      'through the proxy (placeholder replaced)',
    ])
      expect(stdout).toContain(row);
    expect(stdout).toMatch(/Minting ratio stint\/oidc-provider: capability tokens \d+\.\d\d×/);
    expect(stdout).toMatch(/\| stint: capability token \| \d+% \| \d+% \| \d+% \| [\d,]+ µs \| [\d,]+ µs \|/);
    expect(stdout).toMatch(/\| 1,000 \| [\d,]+ µs \|/);
    expect(stdout).toMatch(/p99 with the storm ÷ without, median of 1: \d+\.\d\d×/);
  }, 420_000);
});
