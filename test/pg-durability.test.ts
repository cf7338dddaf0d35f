import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { groupFlush } from '../src/adapters/postgres/durability.js';

// Statements commit asynchronously on PostgreSQL; an answer waits for one synchronous marker
// commit, which flushes the WAL of every commit before it. These check when a marker is sent.
function fakePool(o: { failMarker?: boolean } = {}) {
  const sent: string[] = [];
  let release: (() => void) | undefined;
  const pool = {
    query: async (q: string | { text: string }) => {
      const text = typeof q === 'string' ? q : q.text;
      sent.push(text);
      if (text.startsWith('BEGIN; SET LOCAL synchronous_commit = on')) {
        await new Promise<void>((r) => (release = r));
        if (o.failMarker) throw new Error('server gone');
      }
      return { rows: [] };
    },
  } as unknown as pg.Pool;
  const markers = () => sent.filter((t) => t.startsWith('BEGIN;')).length;
  return { pool, sent, markers, release: () => release?.() };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('group flush on PostgreSQL', () => {
  it('a request that only read waits for no flush', async () => {
    const f = fakePool();
    const { flush } = groupFlush(f.pool);
    await f.pool.query('select 1');
    await f.pool.query({ text: 'SELECT "id" from "tasks"' } as never);
    await flush();
    expect(f.markers()).toBe(0);
  });

  it('after a write the answer waits for one synchronous marker commit', async () => {
    const f = fakePool();
    const { flush } = groupFlush(f.pool);
    await f.pool.query({ text: 'insert into "replay" values ($1)' } as never);
    let done = false;
    const p = flush().then(() => (done = true));
    await tick();
    expect(f.markers()).toBe(1);
    expect(done).toBe(false); // not before the marker committed
    f.release();
    await p;
    expect(done).toBe(true);
    await flush(); // nothing new: no second marker
    expect(f.markers()).toBe(1);
  });

  it('concurrent answers share a flush; a write after it started gets its own', async () => {
    const f = fakePool();
    const { flush } = groupFlush(f.pool);
    await f.pool.query('update tasks set status = 1');
    const a = flush();
    const b = flush();
    await tick();
    await f.pool.query('delete from replay');
    const c = flush();
    await tick();
    expect(f.markers()).toBe(1);
    f.release();
    await Promise.all([a, b]);
    await tick();
    expect(f.markers()).toBe(2); // c's write came after the first marker began
    f.release();
    await c;
  });

  it('a marker that fails rejects the answer (it becomes a 503, never a token)', async () => {
    const f = fakePool({ failMarker: true });
    const { flush } = groupFlush(f.pool);
    await f.pool.query('insert into audit values (1)');
    const p = flush();
    await tick();
    f.release();
    await expect(p).rejects.toThrow('server gone');
  });

  it('a barrier sends a marker whatever this process wrote, and shares only a marker begun after it', async () => {
    const f = fakePool();
    const { barrier } = groupFlush(f.pool);
    const a = barrier(); // nothing written here: other nodes' commits are what it is for
    await tick();
    expect(f.markers()).toBe(1);
    const b = barrier(); // asked while a's marker runs: that marker may predate what b saw
    f.release();
    await a;
    await tick();
    expect(f.markers()).toBe(2);
    f.release();
    await b;
  });
});
