import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanWorkspace } from '../../src/cli/commands/scan.js';

const RAILWAY = '3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d';
const GH = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2).slice(0, 36)}`;

describe('stint scan', () => {
  it('finds the workspace credentials by position and format, never printing a value, and names the custody entry each should become', () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-'));
    mkdirSync(join(d, 'infra/railway'), { recursive: true });
    mkdirSync(join(d, 'node_modules/x'), { recursive: true });
    writeFileSync(join(d, 'infra/railway/project.json'), JSON.stringify({ apiToken: RAILWAY }));
    writeFileSync(join(d, '.env'), `RAILWAY_TOKEN=${RAILWAY}\nGH=${GH}\nVOLUME_ID=vol_123\n`);
    writeFileSync(join(d, 'node_modules/x/.env'), `TOKEN=${GH}\n`);
    const found = scanWorkspace(d, 'staging');
    expect(JSON.stringify(found)).not.toContain(RAILWAY);
    expect(JSON.stringify(found)).not.toContain(GH);
    expect(found.map((f) => `${f.file}:${f.line}`).sort()).toEqual(['.env:1', '.env:2', 'infra/railway/project.json:1']);
    expect(found.find((f) => f.file === '.env' && f.line === 2)!.suggestion).toMatch(/stint vault put github-staging --environment staging --host api\.github\.com/);
    expect(found.find((f) => f.file.startsWith('infra'))!.suggestion).toMatch(/--host backboard\.railway\.app/);
  });
});

describe('stint scan: what it does not report', () => {
  it('declarations, versions, URNs, identifier words and sentences are not credentials; literal values are', () => {
    const d = mkdtempSync(join(tmpdir(), 'stint-scan-noise-'));
    mkdirSync(join(d, 'src'));
    writeFileSync(
      join(d, 'src/client.ts'),
      [
        'interface Session { credentials: Credentials; token: TokenSet }',
        "const body = { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_endpoint_auth_method: 'private_key_jwt', token_use: 'capability' };",
        "const message = authenticated ? 'missing or invalid credentials' : '';",
        `const RAILWAY_TOKEN = '${RAILWAY}';`,
      ].join('\n'),
    );
    writeFileSync(join(d, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/x': { dependencies: { '@aws-sdk/credential-provider-node': '3.972.1', 'token-providers': '^3.0.0' } } } }, null, 1));
    writeFileSync(join(d, 'README.md'), 'STINT_ADMIN_TOKEN=… npx stint agents list\ncredential_process = npx stint aws credential-process --capability aws.s3.read\n');
    writeFileSync(join(d, '.env'), 'DB_PASSWORD=Xk29vLq0pZ8wQ\nAUTH_MODE=client-credentials\n');
    const found = scanWorkspace(d, 'staging');
    expect(found.map((f) => `${f.file}:${f.line}`).sort()).toEqual(['.env:1', 'src/client.ts:4']);
  });
});
