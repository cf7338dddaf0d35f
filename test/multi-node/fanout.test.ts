import { afterAll, describe, expect, it } from 'vitest';
import { PgEventFanout } from '../../src/adapters/postgres/fanout.js';
import { createPgStore } from '../../src/adapters/postgres/store.js';
import { AuditLog } from '../../src/core/audit.js';
import type { VerifierEvent } from '../../src/core/events.js';
import { systemClock } from '../../src/core/ports.js';
import { pgSchemas, postgresAvailable } from '../helpers/postgres.js';

// The PostgreSQL fan-out on its own: two "nodes" (two fan-outs, two audit logs) on one schema.
const available = await postgresAvailable();
const schemas = pgSchemas();
afterAll(() => schemas.dropAll());

describe.runIf(available)('PostgreSQL event fan-out', () => {
  it('a node hears the other node\'s pushed events in audit order, woken by NOTIFY; minting wakes no one', async () => {
    const pgc = await schemas.open();
    const store = createPgStore(pgc.db, pgc);
    const a = new PgEventFanout({ config: pgc.config, store, pollMs: 60_000 });
    const b = new PgEventFanout({ config: pgc.config, store, pollMs: 60_000 });
    await a.start();
    await b.start();
    try {
      const heard: VerifierEvent[] = [];
      b.subscribe((e) => heard.push(e));
      const logA = new AuditLog(store, systemClock, a);
      const logB = new AuditLog(store, systemClock, b);
      await logA.append({ type: 'token.issued', actor: 'x' });
      await logB.append({ type: 'token.issued', actor: 'y' });
      await logA.append({ type: 'task.revoked', actor: 'op', taskId: 't1' });
      await logA.append({ type: 'scope.revoked', actor: 'op', data: { scope: 'agent:a1', epoch: 5 } });
      // With a one-minute poll, only the wake-up can have brought them this soon.
      await expect.poll(() => heard.map((e) => e.type), { timeout: 5000 }).toEqual(['task.revoked', 'scope.revoked']);
      expect(heard.map((e) => e.id)).toEqual([3, 4]);
      // Notifications arrive in commit order: had the two mints notified, they would be counted by now.
      await expect.poll(() => b.notified, { timeout: 5000 }).toBe(2);
      expect((await logA.verify()).ok).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a node whose notifications are lost still hears everything from the poll, and stays current', async () => {
    const pgc = await schemas.open();
    const store = createPgStore(pgc.db, pgc);
    const a = new PgEventFanout({ config: pgc.config, store });
    // B's listener can never connect (nothing listens on port 1): it must rely on the poll.
    const b = new PgEventFanout({ config: { ...pgc.config, connectionString: 'postgres://postgres@127.0.0.1:1/none' }, store, pollMs: 100 });
    await a.start();
    await b.start();
    try {
      const heard: number[] = [];
      b.subscribe((e) => heard.push(e.id));
      const logA = new AuditLog(store, systemClock, a);
      for (let i = 0; i < 5; i++) await logA.append({ type: 'task.stopped', actor: 'op', taskId: `t${i}` });
      await expect.poll(() => heard, { timeout: 5000 }).toEqual([1, 2, 3, 4, 5]);
      expect(b.notified).toBe(0);
      expect(b.current()).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

if (!available) describe.skip('PostgreSQL event fan-out (no server)', () => it('needs PostgreSQL', () => undefined));
