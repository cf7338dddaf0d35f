import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { AuditLog } from '../src/core/audit.js';
import type { Store } from '../src/core/ports.js';
import { FrozenClock } from './helpers/clock.js';

/**
 * Review (second pass), area 1: on PostgreSQL a statement commits asynchronously and its answer
 * waits for the group flush. If the server crashes in between, the commit is lost and the flush
 * fails (the caller gets a 503) — but the audit log's cached head still names the lost record, so
 * the next append links to a record that no longer exists and the chain has a hole for ever
 * (`stint audit verify` fails; retention refuses to sign over it). SQLite tells the log of a
 * rolled-back group (audit.reset); the PostgreSQL wiring has no such hook.
 */
function crashingStore() {
  const inner = createMemoryStore();
  let loseNext = false;
  let failFlush = false;
  const store: Store = {
    ...inner,
    audit: {
      ...inner.audit,
      // A lost async commit: the insert succeeded where the caller could see, then vanished in the crash.
      append: async (r) => {
        if (loseNext) {
          loseNext = false;
          failFlush = true;
          return true;
        }
        return inner.audit.append(r);
      },
    },
    flush: async () => {
      if (failFlush) {
        throw new Error('connection terminated (server crashed)');
      }
    },
  };
  return { store, crashNext: () => void (loseNext = true), restart: () => void (failFlush = false) };
}

describe('review: a lost asynchronous commit', () => {
  it('does not leave a hole in the chain for the next append', async () => {
    const { store, crashNext, restart } = crashingStore();
    const audit = new AuditLog(store, new FrozenClock());
    await audit.append({ type: 'agent.registered', actor: 'admin' });
    crashNext();
    await audit.append({ type: 'token.revoked', actor: 'admin', data: { jti: 'lost' } });
    // The answer that carried this record waited for the flush, which failed: a 503.
    await expect(store.flush()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 0));
    restart(); // the server is back: the next statement goes through
    await audit.append({ type: 'task.opened', actor: 'agent' });
    expect(await audit.verify()).toMatchObject({ ok: true, count: 2 });
  });
});
