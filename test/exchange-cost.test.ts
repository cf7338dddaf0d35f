import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBroker, type AgentClient, type TestBroker } from './helpers/broker.js';

// The cost of a token exchange must not grow with the agent's history (issue 23 item 1): an
// agent with 100,000 past tasks once made every exchange read them all. Wall time is not
// asserted (that is the bench's row); the work is: the same statements run, each one an index
// search (no table scan), and the agent's window read visits only the rows it returns.

interface Traced {
  sql: string;
  args: unknown[];
}

/** Every statement better-sqlite3 runs while `fn` runs (drizzle's and the raw hot paths alike). */
async function trace(sqlite: Database.Database, fn: () => Promise<unknown>): Promise<Traced[]> {
  const proto = Object.getPrototypeOf(sqlite.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
  const seen: Traced[] = [];
  const names = ['run', 'get', 'all', 'iterate'] as const;
  const saved = names.map((n) => proto[n]!);
  names.forEach((n, i) => {
    proto[n] = function (this: { source: string }, ...args: unknown[]) {
      seen.push({ sql: this.source, args });
      return saved[i]!.apply(this, args);
    };
  });
  try {
    await fn();
  } finally {
    names.forEach((n, i) => (proto[n] = saved[i]!));
  }
  // Transactions, and the housekeeping timer's purge and retention rounds (bounded deletes by
  // expiry index, the audit cut under its checkpoint), are not the exchange's.
  // Drizzle's SQL (quoted names) and the Node store's prepared statements alike.
  const housekeeping = /^delete from "?(replay|revoked_tokens)"? where rowid in|^delete from "?(task_events|tasks|provider_sessions|audit|audit_checkpoints)"? where|"?audit_checkpoints"?|^select .* from "?audit"? where ("audit"\.)?"?seq"? > \?/i;
  return seen.filter((t) => !/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(t.sql) && !housekeeping.test(t.sql));
}

function plan(sqlite: Database.Database, t: Traced): string[] {
  return (sqlite.prepare(`EXPLAIN QUERY PLAN ${t.sql}`).all(...t.args) as { detail: string }[]).map((r) => r.detail);
}

/** Past tasks of one agent, each with the events a task leaves, all older than the rules' window. */
function addHistory(sqlite: Database.Database, agentId: string, from: number, to: number, at: number) {
  const task = sqlite.prepare(
    `INSERT INTO tasks (id, agent_id, template, environment, purpose, jkt, status, status_reason, created_at, expires_at) VALUES (?, ?, 'fix-credentials', 'staging', 'p', 'old-key', 'completed', NULL, ?, ?)`,
  );
  const event = sqlite.prepare(`INSERT INTO task_events (task_id, agent_id, at, kind, detail) VALUES (?, ?, ?, ?, '{}')`);
  sqlite.transaction(() => {
    for (let i = from; i < to; i++) {
      const id = `tsk_hist_${i}`;
      task.run(id, agentId, at, at + 600_000);
      event.run(id, agentId, at, 'opened');
      event.run(id, agentId, at + 1, 'denial');
      event.run(id, agentId, at + 2, 'complete');
    }
  })();
}

describe('a token exchange costs the same at 1,000 and at 100,000 past tasks of the agent', () => {
  let b: TestBroker;
  let agent: AgentClient;
  let taskToken: string;
  beforeAll(async () => {
    b = await testBroker();
    agent = await b.registerAgent();
    const t = await agent.openTask();
    expect(t.status).toBe(200);
    taskToken = t.body.access_token;
    // One refusal inside the window, so the window read has a row to find at both sizes.
    expect((await agent.exchange(taskToken, { scope: 'no.such.capability' })).status).toBe(400);
    expect((await agent.exchange(taskToken, { scope: 'config.read' })).status).toBe(200);
  });
  afterAll(() => b?.close());

  const exchange = async () => {
    const r = await agent.exchange(taskToken, { scope: 'config.read' });
    expect(r.status).toBe(200);
    await b.core.store.flush?.();
  };

  it('same statements, every one an index search; the window read returns the same rows', async () => {
    const old = b.clock.now() - 30 * 86_400_000;
    addHistory(b.sqlite, agent.clientId, 0, 1_000, old);
    const small = await trace(b.sqlite, exchange);
    addHistory(b.sqlite, agent.clientId, 1_000, 100_000, old);
    const large = await trace(b.sqlite, exchange);

    expect(large.map((t) => t.sql)).toEqual(small.map((t) => t.sql));
    expect(small.length).toBeGreaterThan(0);

    // The agent's window: one prepared statement on task_events_agent, (agent, kind) equal, at ranged.
    const window = large.filter((t) => /FROM\s+"?task_events"?/i.test(t.sql) && /agent_id/i.test(t.sql) && /^\s*select/i.test(t.sql));
    expect(window.length).toBeGreaterThan(0);
    for (const t of window) {
      expect(plan(b.sqlite, t).join('\n')).toMatch(/SEARCH task_events USING INDEX task_events_agent \(agent_id=\? AND kind=\? AND at>\?\)/);
      const rows = b.sqlite.prepare(t.sql).all(...t.args) as unknown[];
      expect(rows).toHaveLength(1); // the one refusal in the window; none of the 100,000 old ones
    }

    // No statement of the exchange scans a table: each reads only through a key or an index.
    for (const t of large) {
      const scans = plan(b.sqlite, t).filter((d) => /^SCAN /.test(d) && !/^SCAN CONSTANT ROW/.test(d));
      expect({ sql: t.sql, scans }).toEqual({ sql: t.sql, scans: [] });
    }
  }, 120_000);
});

describe('migration 0006 (task_events.agent_id)', () => {
  it('copies each existing event’s agent from its task, so history from before the upgrade still counts', async () => {
    const { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { default: Sqlite } = await import('better-sqlite3');
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
    const { MIGRATIONS_DIR } = await import('../src/adapters/sqlite/node.js');
    const schema = await import('../src/adapters/sqlite/schema.js');
    const { createSqliteStore } = await import('../src/adapters/sqlite/store.js');
    const dir = mkdtempSync(join(tmpdir(), 'stint-mig-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8'));
      journal.entries = journal.entries.filter((e: { idx: number }) => e.idx < 6);
      writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
      const sqlite = new Sqlite(':memory:');
      const db = drizzle(sqlite, { schema });
      migrate(db, { migrationsFolder: dir });
      sqlite.exec(`INSERT INTO tasks (id, agent_id, template, environment, purpose, jkt, status, created_at, expires_at) VALUES ('t1', 'agt_a', 'x', 'staging', 'p', 'k', 'active', 1, 2)`);
      sqlite.exec(`INSERT INTO task_events (task_id, at, kind, detail) VALUES ('t1', 10, 'denial', '{"n":1}'), ('gone', 11, 'denial', '{}')`);
      migrate(db, { migrationsFolder: MIGRATIONS_DIR });
      const store = createSqliteStore(db as never);
      expect(await store.tasks.recentEventsOfAgent('agt_a', ['denial'], 0)).toEqual([{ taskId: 't1', at: 10, kind: 'denial', detail: { n: 1 } }]);
      expect(sqlite.prepare(`SELECT agent_id FROM task_events WHERE task_id = 'gone'`).get()).toEqual({ agent_id: '' });
      sqlite.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
