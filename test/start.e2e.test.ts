import { mkdtempSync, readFileSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, startStint } from './helpers/process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'stint-'));

describe('npm start', () => {
  it('starts the broker and the approval service as two processes and prints the ready line', async () => {
    const dir = tmp();
    const [port, approvalPort] = [await freePort(), await freePort()];
    const s = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(approvalPort) });
    try {
      // The ready line prints the public URLs (the issuer and STINT_APPROVAL_URL's default).
      expect(s.broker).toBe(`http://localhost:${port}`);
      expect(s.approvals).toBe(`http://localhost:${approvalPort}`);
      const meta = (await (await fetch(`${s.broker}/.well-known/oauth-authorization-server`)).json()) as any;
      expect(meta.issuer).toBe(`http://localhost:${port}`);
      expect((await fetch(`${s.approvals}/healthz`)).status).toBe(200);
      // Development secrets are generated into the data folder, readable by the owner only, and never printed.
      const secretsFile = join(dir, 'secrets.json');
      expect(statSync(secretsFile).mode & 0o077).toBe(0);
      const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'));
      expect(s.output()).toContain(secretsFile);
      for (const v of Object.values(secrets)) expect(s.output()).not.toContain(v as string);
      // The signing key is stored sealed: its private part is nowhere in the database file.
      const jwks = (await (await fetch(`${s.broker}/.well-known/jwks.json`)).json()) as any;
      expect(jwks.keys.map((k: any) => k.kid.startsWith('approval.'))).toEqual([false, true]);
      const db = readFileSync(join(dir, 'stint.db')).toString('latin1') + readFileSync(join(dir, 'stint.db-wal')).toString('latin1');
      expect(db).toContain(jwks.keys[0].x);
      expect(db).not.toMatch(/"d":"/);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    // Same data folder, same key: restarts do not invalidate tokens in flight.
    const again = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(approvalPort) });
    try {
      const jwks = (await (await fetch(`${again.broker}/.well-known/jwks.json`)).json()) as any;
      expect(jwks.keys).toHaveLength(2);
    } finally {
      await again.stop();
    }
  }, 120_000);

  it('refuses an invalid policy, naming file, line and field', async () => {
    const dir = tmp();
    const policies = join(dir, 'policies');
    cpSync(join(ROOT, 'policies'), policies, { recursive: true });
    writeFileSync(join(policies, 'templates.yaml'), 'templates:\n  t:\n    environments: [staging]\n    ceiling: [config.read]\n    colour: red\n');
    const err = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_POLICIES: policies, STINT_PORT: String(await freePort()), STINT_APPROVAL_PORT: String(await freePort()) }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.output).toContain(`invalid policy: ${join(policies, 'templates.yaml')}:5: templates.t.colour`);
  });

  it('refuses to start in production without its secrets, naming the variable', async () => {
    const dir = tmp();
    const err = await startStint({ NODE_ENV: 'production', STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(await freePort()) }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.output).toMatch(/STINT_ADMIN_TOKEN must be set when NODE_ENV=production/);
  });
});

describe('npm start in production', () => {
  it('starts with the contract’s secrets alone, the approval key sealed under a key only the approval process can derive', async () => {
    const dir = tmp();
    const s = await startStint({
      NODE_ENV: 'production',
      STINT_DB: join(dir, 'stint.db'),
      STINT_PORT: String(await freePort()),
      STINT_APPROVAL_PORT: String(await freePort()),
      STINT_ADMIN_TOKEN: 'prod-admin-token-0123456789',
      STINT_APPROVAL_ADMIN_TOKEN: 'prod-approval-admin-0123456789',
      STINT_MASTER_KEY: Buffer.alloc(32, 4).toString('base64'),
    });
    try {
      const jwks = (await (await fetch(`${s.broker}/.well-known/jwks.json`)).json()) as any;
      expect(jwks.keys.map((k: any) => k.kid.startsWith('approval.'))).toEqual([false, true]);
      expect(s.output()).not.toContain('secrets.json');
    } finally {
      await s.stop();
    }
  }, 120_000);
});
