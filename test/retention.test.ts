import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { createNobleSealer } from '../src/adapters/sealing/noble.js';
import { createPgStore } from '../src/adapters/postgres/store.js';
import { GroupCommit } from '../src/adapters/sqlite/group-commit.js';
import { openSqlite } from '../src/adapters/sqlite/node.js';
import { withNativeHotPaths } from '../src/adapters/sqlite/node-hot.js';
import { createSqliteStore } from '../src/adapters/sqlite/store.js';
import { signCheckpoint } from '../src/core/audit-checkpoint.js';
import { seqBefore } from '../src/core/events.js';
import { KeyRing } from '../src/core/keys.js';
import type { Store } from '../src/core/ports.js';
import { DAY_MS, type RetentionOptions } from '../src/core/retention.js';
import { ConfigError, loadConfig } from '../src/runtime/node/config.js';
import { createBroker } from '../src/service/broker.js';
import { FrozenClock } from './helpers/clock.js';
import { defaultPolicy } from './helpers/policy.js';
import { pgSchemas, postgresAvailable } from './helpers/postgres.js';

// Retention cuts the audit chain under a signed checkpoint and drops expired tasks with their
// events, from the broker's maintenance round. Driven here through `maintenance()` with a frozen
// clock: no timers, no sleeping; sizes are row counts.

const RETENTION = { tasksMs: 10 * DAY_MS, auditMs: 20 * DAY_MS };

async function service(store: Store, clock = new FrozenClock(), archive?: RetentionOptions['archive']) {
  const s = await createBroker({ issuer: 'http://localhost:8787', store, sealer: createNobleSealer(new Uint8Array(32).fill(1)), policy: defaultPolicy(), adminToken: 'x'.repeat(20), clock, retention: { ...RETENTION, archive } });
  /** Maintenance until a round finds nothing, letting a minute pass between rounds (a small cut waits for one). */
  const settle = async () => {
    for (let quiet = 0; quiet < 2; ) {
      if ((await s.maintenance()) > 0) quiet = 0;
      else quiet++;
      clock.advance(61);
    }
  };
  const append = async (n: number) => {
    for (let i = 0; i < n; i++) await s.core.audit.append({ type: 'test.event', actor: 'tester', data: { i } });
  };
  const auditRows = async () => (await store.audit.list(0, 1_000_000)).length;
  return { ...s, clock, settle, append, auditRows };
}

const pg = await postgresAvailable();
const schemas = pgSchemas();
afterAll(() => schemas.dropAll());

const backends: [string, () => Promise<Store>][] = [
  ['memory', async () => createMemoryStore()],
  [
    'SQLite (native hot paths)',
    async () => {
      const { db, sqlite } = openSqlite(':memory:');
      return withNativeHotPaths(createSqliteStore(db), sqlite, new GroupCommit(sqlite));
    },
  ],
  ...(pg ? ([['PostgreSQL', async () => createPgStore((await schemas.fresh()).db)]] as [string, () => Promise<Store>][]) : []),
];

describe.each(backends)('retention on %s', (_name, make) => {
  it('prunes old records under a signed checkpoint; the chain verifies from it and goes on', async () => {
    const s = await service(await make());
    await s.append(600);
    s.clock.advance(30 * 86400);
    await s.append(5);
    await s.settle();
    expect(await s.auditRows()).toBe(5);
    const v = await s.core.audit.verify();
    expect(v).toMatchObject({ ok: true, count: 5, checkpoint: { seq: 600 } });
    // A verifier asking for the recent past starts after the cut, not at the bottom of the gap.
    expect(await seqBefore(s.core.store, s.clock.now() - 3600_000)).toBe(600);
    // Appends after the cut link to the head as before.
    await s.append(3);
    expect((await s.core.store.audit.last())?.seq).toBe(608);
    expect(await s.core.audit.verify()).toMatchObject({ ok: true, count: 8 });
  });

  it('never cuts the newest record, and nothing younger than the retention age', async () => {
    const s = await service(await make());
    await s.append(10);
    s.clock.advance(19 * 86400);
    await s.settle();
    expect(await s.auditRows()).toBe(10);
    s.clock.advance(2 * 86400);
    await s.settle();
    expect(await s.auditRows()).toBe(1); // an idle broker: the head stays for the next append to link to
    expect(await s.core.audit.verify()).toMatchObject({ ok: true, count: 1, checkpoint: { seq: 9 } });
  });

  it('a record removed after the checkpoint fails verification', async () => {
    const s = await service(await make());
    await s.append(300);
    s.clock.advance(30 * 86400);
    await s.append(5);
    await s.settle();
    expect(await s.core.audit.verify()).toMatchObject({ ok: true, checkpoint: { seq: 300 } });
    await s.core.store.audit.prune(302, 2); // deletes 301 and 302: a gap after the cut
    expect(await s.core.audit.verify()).toMatchObject({ ok: false, brokenAt: 301 });
  });

  it('a forged checkpoint fails verification, and retention does not delete on its word', async () => {
    const store = await make();
    const s = await service(store);
    await s.append(50);
    s.clock.advance(30 * 86400);
    await s.append(5);
    // Signed by a key that is not the broker's.
    const other = await KeyRing.load(createMemoryStore(), createNobleSealer(new Uint8Array(32).fill(2)), 'task', s.clock);
    const records = await store.audit.list(0, 100);
    const at40 = records[39]!;
    await store.audit.addCheckpoint(await signCheckpoint(other, s.core.issuer, at40, s.clock.now()), 16);
    expect(await s.core.audit.verify()).toMatchObject({ ok: false, brokenAt: 40, reason: 'the checkpoint is signed by a key the broker does not have' });
    await s.settle();
    expect(await s.auditRows()).toBe(55);

    // A genuine signature on a row moved to another seq.
    const s2 = await service(await make());
    await s2.append(50);
    s2.clock.advance(30 * 86400);
    await s2.append(5);
    await s2.settle();
    const genuine = (await s2.core.store.audit.checkpoint())!;
    await s2.core.store.audit.addCheckpoint({ ...genuine, seq: genuine.seq + 3 }, 16);
    expect(await s2.core.audit.verify()).toMatchObject({ ok: false, reason: 'the checkpoint row does not match what was signed' });
    // Retention had trusted the genuine row; the moved one is checked anew, and nothing goes.
    const kept = await s2.auditRows();
    await s2.settle();
    expect(await s2.auditRows()).toBe(kept);

    // A signature that does not verify.
    const s3 = await service(await make());
    await s3.append(5);
    const good = await signCheckpoint(s3.core.keys, s3.core.issuer, (await s3.core.store.audit.list(0, 2))[1]!, s3.clock.now());
    const [h, p] = good.jws.split('.');
    await s3.core.store.audit.addCheckpoint({ ...good, jws: `${h}.${p}.${'A'.repeat(86)}` }, 16);
    expect(await s3.core.audit.verify()).toMatchObject({ ok: false, reason: "the checkpoint's signature does not verify" });
  });

  it('a chain already broken below the cut is not signed over', async () => {
    const store = await make();
    const s = await service(store);
    await s.append(20);
    s.clock.advance(30 * 86400);
    await s.append(2);
    await store.audit.prune(5, 1); // record 1 gone: the chain is broken from the start
    await s.settle();
    expect(await store.audit.checkpoint()).toBeUndefined();
    expect(await s.auditRows()).toBe(21);
    expect(await s.core.audit.verify()).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('rows stay bounded under a steady load', async () => {
    const store = await make();
    const s = await service(store);
    const counts: number[] = [];
    let n = 0;
    for (let day = 0; day < 60; day++) {
      // A day's work: three tasks of an hour, four trajectory events each, ten audit records.
      for (let t = 0; t < 3; t++) {
        const id = `tsk_${n++}`;
        await store.tasks.create({ id, agentId: 'agt_1', template: 'fix-credentials', environment: 'staging', purpose: 'p', jkt: `k${id}`, status: 'active', statusReason: null, createdAt: s.clock.now(), expiresAt: s.clock.now() + 3600_000 });
        for (let e = 0; e < 4; e++) await store.tasks.addEvent({ taskId: id, at: s.clock.now(), kind: 'grant', detail: { e } });
      }
      await s.append(10);
      await s.settle();
      const tasks = await store.listings.tasks({ limit: 100_000 });
      let events = 0;
      for (const t of tasks) events += (await store.tasks.events(t.id)).length;
      counts.push(tasks.length + events + (await s.auditRows()));
      s.clock.advance(86400);
    }
    // Tasks live 10 days past expiry (3 × 5 rows a day), audit records 20 days (10 a day), plus a day's slack each.
    const bound = 12 * 3 * 5 + 22 * 10;
    expect(Math.max(...counts.slice(30))).toBeLessThanOrEqual(bound);
    expect(counts.at(-1)).toBe(counts[40]); // flat, not growing
    expect(await s.core.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('retention settings', () => {
  it('defaults to 30 days of ended tasks and a year of audit; 0 keeps for ever; anything else refuses to start', () => {
    const base = { STINT_ADMIN_TOKEN: 'a'.repeat(20), STINT_APPROVAL_ADMIN_TOKEN: 'b'.repeat(20), STINT_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), STINT_APPROVAL_MASTER_KEY: Buffer.alloc(32, 2).toString('base64') };
    expect(loadConfig(base).retention).toEqual({ tasksMs: 30 * DAY_MS, auditMs: 365 * DAY_MS });
    expect(loadConfig({ ...base, STINT_AUDIT_RETENTION_DAYS: '0', STINT_TASK_RETENTION_DAYS: '7' }).retention).toEqual({ tasksMs: 7 * DAY_MS, auditMs: 0 });
    expect(() => loadConfig({ ...base, STINT_AUDIT_RETENTION_DAYS: '1y' })).toThrow(ConfigError);
    expect(loadConfig(base).auditArchiveDir).toBeUndefined();
    expect(loadConfig({ ...base, STINT_AUDIT_ARCHIVE_DIR: '/var/lib/stint/archive' }).auditArchiveDir).toBe('/var/lib/stint/archive');
  });

  it('0 keeps everything', async () => {
    const clock = new FrozenClock();
    const store = createMemoryStore();
    const s = await createBroker({ issuer: 'http://localhost:8787', store, sealer: createNobleSealer(new Uint8Array(32).fill(1)), policy: defaultPolicy(), adminToken: 'x'.repeat(20), clock, retention: { tasksMs: 0, auditMs: 0 } });
    for (let i = 0; i < 5; i++) await s.core.audit.append({ type: 't', actor: 'a' });
    clock.advance(3650 * 86400);
    await s.core.audit.append({ type: 't', actor: 'a' });
    while ((await s.maintenance()) > 0);
    expect(await store.audit.list(0, 100)).toHaveLength(6);
  });
});

describe('stint audit verify after retention (HTTP, SQLite file store)', () => {
  it('reports the checkpoint it started from; an edited record after it is found', async () => {
    const { testBroker } = await import('./helpers/broker.js');
    const { retentionRound } = await import('../src/core/retention.js');
    const b = await testBroker();
    const agent = await b.registerAgent();
    for (let i = 0; i < 5; i++) await agent.openTask();
    b.clock.advance(40 * 86400);
    const task = await agent.openTask();
    await agent.exchange(task.body.access_token, { scope: 'config.read' });
    while ((await retentionRound(b.core, RETENTION)) > 0) b.clock.advance(61);
    const verify = async () => (await (await b.admin('/v1/audit/verify')).json()) as any;
    const v = await verify();
    expect(v).toMatchObject({ ok: true, checkpoint: { seq: 6 } });
    expect(v.count).toBeGreaterThanOrEqual(2);
    // The tasks opened 40 days ago expired long ago: gone with their trajectories.
    expect(b.sqlite.prepare('select count(*) as n from tasks').get()).toEqual({ n: 1 });
    b.sqlite.prepare(`update audit set data = json_set(data, '$.purpose', 'something else') where seq = 7`).run();
    expect(await verify()).toMatchObject({ ok: false, brokenAt: 7 });
  });
});

/** The approval service on an in-memory SQLite file, on `clock`. */
async function approvalService(clock: FrozenClock, o: { auditRetentionMs?: number; requestRetentionMs?: number }) {
  const { createApprovalService } = await import('../src/service/approvals.js');
  const { createApprovalStore } = await import('../src/adapters/sqlite/approval-store.js');
  const { db } = openSqlite(':memory:');
  return createApprovalService({
    issuer: 'http://localhost:8787',
    selfUrl: 'http://localhost:8788',
    brokerUrl: 'http://localhost:8787',
    store: createSqliteStore(db),
    approvals: createApprovalStore(db),
    sealer: createNobleSealer(new Uint8Array(32).fill(3)),
    policy: defaultPolicy(),
    adminToken: 'y'.repeat(20),
    clock,
    ...o,
  });
}

describe('retention in the approval service', () => {
  it("cuts its own audit chain under a checkpoint signed by its key, and the chain verifies", async () => {
    const clock = new FrozenClock();
    const s = await approvalService(clock, { auditRetentionMs: 20 * DAY_MS });
    for (let i = 0; i < 40; i++) await s.core.audit.append({ type: 'approval.test', actor: 'x' });
    clock.advance(30 * 86400);
    await s.core.audit.append({ type: 'approval.test', actor: 'x' });
    while ((await s.maintenance()) > 0) clock.advance(61);
    expect(await s.core.store.audit.list(0, 1000)).toHaveLength(1);
    expect(await s.core.audit.verify()).toMatchObject({ ok: true, count: 1, checkpoint: { seq: 40 } });
  });

  it('prunes approval requests and their decisions once the tasks they were for are past retention; none before', async () => {
    const clock = new FrozenClock();
    const s = await approvalService(clock, { requestRetentionMs: 30 * DAY_MS });
    const request = { type: 'destructive_action', task_id: 't', environment: 'production', action: 'volumeDelete', resource: 'r', scope: 's', reason: 'r' } as never;
    const add = async (id: string) => {
      const now = clock.now();
      await s.core.approvals.requests.create({ id, clientId: 'agt', request, digest: 'd', quorum: 1, groups: [], allowOwner: false, status: 'pending', statusReason: null, interval: 5, lastPollAt: null, createdAt: now, expiresAt: now + 600_000 });
      await s.core.approvals.decisions.add({ requestId: id, approverId: 'apr', decision: 'approve', jti: `j-${id}`, at: now });
    };
    for (let i = 0; i < 3; i++) await add(`old${i}`);
    clock.advance(29 * 86400);
    await add('recent');
    while ((await s.maintenance()) > 0);
    expect(await s.core.approvals.requests.get('old0')).toBeDefined();
    clock.advance(2 * 86400);
    while ((await s.maintenance()) > 0);
    for (let i = 0; i < 3; i++) {
      expect(await s.core.approvals.requests.get(`old${i}`)).toBeUndefined();
      expect(await s.core.approvals.decisions.list(`old${i}`)).toEqual([]);
    }
    expect(await s.core.approvals.requests.get('recent')).toBeDefined();
    expect(await s.core.approvals.decisions.list('recent')).toHaveLength(1);
  });
});

describe('retention with an archive', () => {
  it('appends every cut record to a file before deleting it: the archived segment is a chain its checkpoints vouch for', async () => {
    const { mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { fileArchive } = await import('../src/adapters/audit-archive.js');
    const { GENESIS, hashOf } = await import('../src/core/audit.js');
    const { openCheckpoint } = await import('../src/core/audit-checkpoint.js');
    const dir = mkdtempSync(join(tmpdir(), 'stint-archive-'));
    try {
      const s = await service(createMemoryStore(), new FrozenClock(), fileArchive(dir));
      await s.append(600);
      s.clock.advance(30 * 86400);
      await s.append(2);
      await s.settle();
      expect(await s.auditRows()).toBe(2);
      const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
      const records = lines.filter((l) => !l.checkpoint);
      const checkpoints = lines.filter((l) => l.checkpoint).map((l) => l.checkpoint);
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      let prev = GENESIS;
      for (const r of records) {
        expect(r.prev_hash).toBe(prev);
        expect(await hashOf({ seq: r.seq, at: Date.parse(r.at), type: r.type, actor: r.actor, taskId: r.task_id, data: r.data, prevHash: r.prev_hash })).toBe(r.hash);
        prev = r.hash;
      }
      const last = checkpoints.at(-1);
      expect(last).toMatchObject({ seq: 600, hash: prev });
      expect(await openCheckpoint(s.core.keys, { ...last, at: Date.parse(last.at) })).toMatchObject({ ok: true });

      // The same, as `stint audit verify-archive` checks it (the CLI, from the source, with the keys in a file).
      const { checkArchive } = await import('../src/core/audit-archive-check.js');
      const text = readdirSync(dir).sort().flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'));
      expect(await checkArchive(text, s.core.keys)).toMatchObject({ ok: true, records: 600, first: 1, last: 600, checkpoints: 3 });
      const doubled = [...text.slice(0, 257), ...text.slice(0, 257), ...text.slice(257)]; // a cut archived twice (a crash before its checkpoint was stored)
      expect(await checkArchive(doubled, s.core.keys)).toMatchObject({ ok: true, records: 600 });
      const edited = text.map((l, i) => (i === 99 ? l.replace('"i":99', '"i":98') : l));
      expect(await checkArchive(edited, s.core.keys)).toMatchObject({ ok: false, brokenAt: 100, reason: 'record content does not match its hash' });
      const { writeFileSync } = await import('node:fs');
      const { execFileSync } = await import('node:child_process');
      writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: s.core.keys.publicJwks() }));
      const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f));
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify-archive', ...files, '--jwks', join(dir, 'jwks.json'), '--json'], { encoding: 'utf8' });
      expect(JSON.parse(out)).toMatchObject({ ok: true, records: 600 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an archive that fails cuts nothing', async () => {
    const s = await service(createMemoryStore(), new FrozenClock(), async () => {
      throw new Error('disk full');
    });
    await s.append(50);
    s.clock.advance(30 * 86400);
    await s.append(1);
    expect(await s.maintenance()).toBe(0);
    expect(await s.auditRows()).toBe(51);
    expect(await s.core.store.audit.checkpoint()).toBeUndefined();
  });
});
