// `stint scan` over git history (commit and path, never the value) and `stint scan --import`
// (found credentials moved into custody through the broker, replaced in the files by a
// reference that nothing reads as a credential; what it did printed, never a value).
import { execFileSync, spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanContent } from '../../src/guard/secrets.js';
import { scanHistory } from '../../src/scan/history.js';
import { LIVE_ADMIN, liveBroker } from '../helpers/live.js';
import { ROOT } from './helpers.js';

const RAILWAY = '3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d';
const GH = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2).slice(0, 36)}`;
const STRIPE = `sk_live_${'9f8e7d6c5b4a'.repeat(2)}`;
const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

function scanCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`, join(ROOT, 'src/cli/main.ts'), 'scan', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();

describe('stint scan: git history', () => {
  it('a token committed then removed is found by commit and path (the commit that added it), never by value', async () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-git-'));
    git(d, 'init', '-q', '-b', 'main');
    mkdirSync(join(d, 'ops'));
    writeFileSync(join(d, 'README.md'), '# app\n');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'start');
    writeFileSync(join(d, 'ops/deploy.sh'), `#!/bin/sh\nexport GH_TOKEN=${GH}\ncurl -H "Authorization: Bearer $GH_TOKEN" https://api.github.com/user\n`);
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'deploy script');
    const added = git(d, 'rev-parse', 'HEAD');
    writeFileSync(join(d, 'ops/deploy.sh'), '#!/bin/sh\ncurl -H "Authorization: Bearer $GH_TOKEN" https://api.github.com/user\n');
    git(d, 'commit', '-qam', 'remove the token');
    const h = scanHistory(d)!;
    expect(h.commits).toBe(3);
    expect(h.findings).toEqual([{ commit: added, file: 'ops/deploy.sh', line: 2, kind: 'github_token', fingerprint: scanContent(GH, 'x', { tokens: new Set() })[0]!.fingerprint }]);
    const r = await scanCli([d]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(added.slice(0, 12));
    expect(r.stdout).toMatch(/ops\/deploy\.sh:2\s+github_token/);
    expect(r.stdout).toMatch(/rotate them at the provider/);
    expect(r.stdout + r.stderr).not.toContain(GH);
    const json = await scanCli([d, '--json']);
    expect(JSON.parse(json.stdout).history.findings[0]).toMatchObject({ commit: added, file: 'ops/deploy.sh' });
    expect(json.stdout).not.toContain(GH);
    // --no-history: the work tree alone (clean now)
    const none = await scanCli([d, '--no-history']);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/no credentials found/);
  });

  it('a folder that is not a git work tree has no history to read', () => {
    expect(scanHistory(mkdtempSync(join(tmpdir(), 'stint-scan-nogit-')))).toBeUndefined();
  });
});

describe('stint scan --import', () => {
  let broker: Awaited<ReturnType<typeof liveBroker>>;
  beforeAll(async () => {
    broker = await liveBroker();
  });
  afterAll(async () => broker?.close());

  const custodyValue = async (name: string) => {
    const row = await broker.broker.core.store.secrets.get(`custody:${name}`);
    return row ? JSON.parse(new TextDecoder().decode(await broker.broker.core.sealer.open(row.sealedValue))) : undefined;
  };

  it('moves each credential into custody (one entry per value, bound to its host), replaces it in the files, prints what it did and never a value', async () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-import-'));
    mkdirSync(join(d, 'infra/railway'), { recursive: true });
    writeFileSync(join(d, 'infra/railway/project.json'), JSON.stringify({ projectId: 'p-1', apiToken: RAILWAY }));
    writeFileSync(join(d, '.env'), `RAILWAY_TOKEN=${RAILWAY}\nGITHUB_TOKEN=${GH}\nVOLUME_ID=vol_123\n`);
    writeFileSync(join(d, 'billing.yaml'), `stripe:\n  secret_key: ${STRIPE}\n`);
    // a copy no scanner would call a credential (no name, no format): moved all the same
    writeFileSync(join(d, 'NOTES.md'), `the old Railway token was ${RAILWAY}, ask Bob\n`);
    const env = { STINT_ADMIN_TOKEN: LIVE_ADMIN, STINT_URL: broker.issuer };
    const r = await scanCli([d, '--environment', 'staging', '--import'], env);
    expect(r.stderr).toBe('');
    for (const v of [RAILWAY, GH, STRIPE]) expect(r.stdout).not.toContain(v);
    expect(r.stdout).toMatch(/into custody "railway-staging" \(sent to backboard\.railway\.app\)/);
    expect(r.stdout).toMatch(/run with: stint run --env RAILWAY_TOKEN=railway-staging/);
    expect(r.stdout).toMatch(/into custody "github-staging" \(sent to api\.github\.com\)/);
    expect(r.stdout).toMatch(/into custody "stripe-staging" \(sent to api\.stripe\.com\)/);
    expect(r.code).toBe(0);
    // the files: references where the values were, everything else untouched
    expect(readFileSync(join(d, '.env'), 'utf8')).toBe('RAILWAY_TOKEN=stint-placeholder:railway-staging\nGITHUB_TOKEN=stint-placeholder:github-staging\nVOLUME_ID=vol_123\n');
    expect(JSON.parse(readFileSync(join(d, 'infra/railway/project.json'), 'utf8'))).toEqual({ projectId: 'p-1', apiToken: 'stint-placeholder:railway-staging' });
    expect(readFileSync(join(d, 'billing.yaml'), 'utf8')).toBe('stripe:\n  secret_key: stint-placeholder:stripe-staging\n');
    expect(readFileSync(join(d, 'NOTES.md'), 'utf8')).toBe('the old Railway token was stint-placeholder:railway-staging, ask Bob\n');
    expect(r.stdout).toMatch(/railway-staging.*NOTES\.md|NOTES\.md.*railway-staging/);
    // custody holds exactly the values, bound as printed
    expect(await custodyValue('railway-staging')).toMatchObject({ environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer', value: RAILWAY });
    expect((await custodyValue('github-staging')).value).toBe(GH);
    expect((await custodyValue('stripe-staging')).value).toBe(STRIPE);
    // a second scan finds nothing: the references are no credentials
    const again = await scanCli([d, '--environment', 'staging']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/no credentials found/);
  });

  it('a hard link to a file outside the workspace is not rewritten (the rewrite would land outside)', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'stint-scan-outside-'));
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-import-'));
    const target = join(outside, 'keep.env');
    writeFileSync(target, `RAILWAY_TOKEN=${RAILWAY}\n`);
    linkSync(target, join(d, 'linked.env'));
    writeFileSync(join(d, '.env'), `RAILWAY_TOKEN=${RAILWAY}\n`);
    const r = await scanCli([d, '--environment', 'staging', '--import'], { STINT_ADMIN_TOKEN: LIVE_ADMIN, STINT_URL: broker.issuer });
    expect(r.stdout).not.toContain(RAILWAY);
    expect(readFileSync(join(d, '.env'), 'utf8')).toBe('RAILWAY_TOKEN=stint-placeholder:railway-staging\n');
    expect(readFileSync(target, 'utf8')).toBe(`RAILWAY_TOKEN=${RAILWAY}\n`);
  });

  it('a credential with no known host is left in place and said so; --import without --environment is refused', async () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-import-'));
    writeFileSync(join(d, 'config.env'), 'WIDGET_API_KEY=zq8Jr2vX0m4LkT7wZp3NfH6yBc9Ds\n');
    const r = await scanCli([d, '--environment', 'staging', '--import'], { STINT_ADMIN_TOKEN: LIVE_ADMIN, STINT_URL: broker.issuer });
    expect(r.stdout).toMatch(/left .* at config\.env:1: no provider host is known/);
    expect(r.stdout).not.toContain('zq8Jr2vX0m4LkT7wZp3NfH6yBc9Ds');
    expect(readFileSync(join(d, 'config.env'), 'utf8')).toContain('zq8Jr2vX0m4LkT7wZp3NfH6yBc9Ds');
    expect(r.code).toBe(1);
    const bad = await scanCli([d, '--import']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--import needs --environment/);
  });
});
