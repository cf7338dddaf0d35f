// `npm run bench:retention`: how fast retention drains a backlog, and how long it holds the main
// thread, on the Node store (SQLite file, group commit, native hot paths) as the broker runs it.
// Fills AUDIT records (a valid chain) and TASKS expired tasks with EVENTS events each, moves the
// clock past both retention ages, then runs maintenance rounds back to back until nothing is
// left to do. Prints rows/s and the longest stretch the event loop was held (what a request
// arriving meanwhile would wait). Measure on a quiet machine.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNobleSealer } from '../../src/adapters/sealing/noble.js';
import { GroupCommit } from '../../src/adapters/sqlite/group-commit.js';
import { openSqlite } from '../../src/adapters/sqlite/node.js';
import { withNativeHotPaths } from '../../src/adapters/sqlite/node-hot.js';
import { createSqliteStore } from '../../src/adapters/sqlite/store.js';
import { GENESIS, hashOf } from '../../src/core/audit.js';
import { DAY_MS } from '../../src/core/retention.js';
import { createBroker } from '../../src/service/broker.js';
import { loadPolicyDir } from '../../src/policy/node.js';

const AUDIT = Number(process.env.AUDIT ?? 200_000);
const TASKS = Number(process.env.TASKS ?? 20_000);
const EVENTS = Number(process.env.EVENTS ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'stint-retention-'));
const file = join(dir, 'bench.db');
const { db, sqlite, close } = openSqlite(file);
const group = new GroupCommit(sqlite);
const store = withNativeHotPaths(createSqliteStore(db), sqlite, group);
let now = Date.UTC(2026, 0, 1);
const clock = { now: () => now };
const broker = await createBroker({ issuer: 'http://localhost:8787', store, sealer: createNobleSealer(new Uint8Array(32).fill(1)), policy: loadPolicyDir('./policies'), adminToken: 'x'.repeat(20), clock, retention: { tasksMs: 30 * DAY_MS, auditMs: 365 * DAY_MS } });
await group.flush();

// The backlog, written directly (a valid chain), one transaction per 10,000 rows.
const insertAudit = sqlite.prepare('INSERT INTO audit (seq, at, type, actor, task_id, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const insertTask = sqlite.prepare("INSERT INTO tasks (id, agent_id, template, environment, purpose, jkt, status, status_reason, created_at, expires_at) VALUES (?, 'agt', 'fix-credentials', 'staging', 'p', ?, 'completed', 'done', ?, ?)");
const insertEvent = sqlite.prepare("INSERT INTO task_events (task_id, agent_id, at, kind, detail) VALUES (?, 'agt', ?, 'grant', '{\"capabilities\":[\"config.read\"]}')");
let prev = GENESIS;
const head = (await store.audit.last())?.seq ?? 0;
if (head > 0) prev = (await store.audit.last())!.hash;
for (let seq = head + 1; seq <= head + AUDIT; ) {
  const rows: unknown[][] = [];
  for (let i = 0; i < 10_000 && seq <= head + AUDIT; i++, seq++) {
    const r = { seq, at: now + seq, type: 'capability.issued', actor: 'agt', taskId: null, data: { capabilities: ['config.read'], jti: `j${seq}` }, prevHash: prev };
    const hash = await hashOf(r);
    rows.push([r.seq, r.at, r.type, r.actor, r.taskId, JSON.stringify(r.data), r.prevHash, hash]);
    prev = hash;
  }
  sqlite.transaction(() => rows.forEach((r) => insertAudit.run(...r)))();
}
sqlite.transaction(() => {
  for (let t = 0; t < TASKS; t++) {
    insertTask.run(`tsk_${t}`, `k${t}`, now, now + 3600_000);
    for (let e = 0; e < EVENTS; e++) insertEvent.run(`tsk_${t}`, now + e);
  }
})();
const count = (t: string) => (sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
const before = { audit: count('audit'), tasks: count('tasks'), events: count('task_events'), bytes: statSync(file).size };

now += 400 * DAY_MS;
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const started = performance.now();
let rows = 0;
let rounds = 0;
let longestRound = 0;
for (let quiet = 0; quiet < 2; rounds++) {
  const t0 = performance.now();
  const n = await broker.maintenance();
  await group.flush();
  longestRound = Math.max(longestRound, performance.now() - t0);
  rows += n;
  quiet = n > 0 ? 0 : quiet + 1;
  now += 61_000; // a partial cut waits a minute for the next one
}
const seconds = (performance.now() - started) / 1000;
loop.disable();
const verify = await broker.core.audit.verify();

console.log('retention: draining a backlog (SQLite file, group commit)');
console.log(`| rows before (audit / tasks / events) | ${before.audit} / ${before.tasks} / ${before.events} |`);
console.log(`| rows after | ${count('audit')} / ${count('tasks')} / ${count('task_events')} |`);
console.log(`| rows deleted / s | ${Math.round(rows / seconds)} |`);
console.log(`| rounds | ${rounds} (longest ${longestRound.toFixed(1)} ms, turns of the loop between steps) |`);
console.log(`| event loop held, max / p99 | ${(loop.max / 1e6).toFixed(1)} ms / ${(loop.percentile(99) / 1e6).toFixed(1)} ms |`);
console.log(`| chain verifies from checkpoint | ${verify.ok} (seq ${verify.checkpoint?.seq ?? '-'}) |`);
await close();
rmSync(dir, { recursive: true, force: true });
