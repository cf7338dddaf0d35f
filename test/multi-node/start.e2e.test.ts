import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { OperatorClient } from '../../src/client/operator.js';
import { pgDatabase, postgresAvailable } from '../helpers/postgres.js';
import { freePort, startStint } from '../helpers/process.js';

const available = await postgresAvailable();

describe.runIf(available)('npm start on PostgreSQL', () => {
  it('STINT_DATABASE_URL puts the broker, and STINT_APPROVAL_DATABASE_URL the approval service, on PostgreSQL; no SQLite file is made', async () => {
    const db = await pgDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'stint-pg-'));
    const [port, approvalPort] = [await freePort(), await freePort()];
    const env = {
      STINT_DB: join(dir, 'stint.db'),
      STINT_PORT: String(port),
      STINT_APPROVAL_PORT: String(approvalPort),
      STINT_DATABASE_URL: db.url,
      STINT_APPROVAL_DATABASE_URL: `${db.url}?schema=approvals`,
    };
    const s = await startStint(env);
    try {
      const secrets = (await import('node:fs')).readFileSync(join(dir, 'secrets.json'), 'utf8');
      const op = new OperatorClient(s.broker, JSON.parse(secrets).STINT_ADMIN_TOKEN);
      const agent = await op.agent('bot', 'alice', ['fix-credentials']);
      const task = await agent.openTask('fix-credentials', 'staging', 'p');
      expect(task.status).toBe(200);
      expect((await fetch(`${s.approvals}/healthz`)).status).toBe(200);
      expect(existsSync(join(dir, 'stint.db'))).toBe(false);
      expect(existsSync(join(dir, 'approvals.db'))).toBe(false);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const tasks = await c.query('SELECT id FROM public.tasks');
        expect(tasks.rows.map((r) => r.id)).toEqual([task.body.task_id]);
        const keys = await c.query(`SELECT use FROM approvals.signing_keys`);
        expect(keys.rows.map((r) => r.use)).toEqual(['approval']);
      } finally {
        await c.end();
      }
    } finally {
      expect(await s.stop()).toBe(0);
      await db.drop();
    }
  }, 120_000);

  it('refuses a database URL that is not postgres://, naming the variable', async () => {
    const port = await freePort();
    await expect(startStint({ STINT_PORT: String(port), STINT_DATABASE_URL: 'mysql://x/y' })).rejects.toThrow(/STINT_DATABASE_URL must be a postgres:\/\/ URL/);
  });
});

if (!available) describe.skip('npm start on PostgreSQL (no server)', () => it('needs PostgreSQL', () => undefined));
