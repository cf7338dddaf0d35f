import { describe, expect, it } from 'vitest';
import { openSqlite } from '../src/adapters/sqlite/node.js';
import { createSqliteStore } from '../src/adapters/sqlite/store.js';
import { agentScope, allScope, environmentScope, parseScopeKey, scopeKey, scopesOf } from '../src/core/scope.js';

describe('revocation scope keys', () => {
  it('keep the stored and pushed string form: all, agent:<id>, env:<name>', () => {
    expect(scopeKey(allScope)).toBe('all');
    expect(scopeKey(agentScope('agt_1'))).toBe('agent:agt_1');
    expect(scopeKey(environmentScope('production'))).toBe('env:production');
    expect(scopesOf('agt_1', 'staging').map(scopeKey)).toEqual(['all', 'agent:agt_1', 'env:staging']);
  });

  it('parse back to the same value; a colon inside the name stays in the name', () => {
    for (const s of [allScope, agentScope('agt_1'), environmentScope('prod'), agentScope('a:b'), environmentScope('x:y:z')]) expect(parseScopeKey(scopeKey(s))).toEqual(s);
    expect(parseScopeKey('agent:a:b')).toEqual({ kind: 'agent', id: 'a:b' });
  });

  it('refuse anything that is not a scope key, rather than reading it as `all`', () => {
    for (const k of ['', 'al', 'ALL', 'all:', 'agent:', 'env:', 'agent', 'environment:prod', 'task:t1']) expect(parseScopeKey(k)).toBeUndefined();
  });

  it('are what the database holds', async () => {
    const { db, sqlite } = openSqlite(':memory:');
    const s = createSqliteStore(db);
    await s.revocations.raiseEpoch(agentScope('agt_1'), 5);
    await s.revocations.raiseEpoch(environmentScope('staging'), 6);
    await s.revocations.raiseEpoch(allScope, 7);
    expect(sqlite.prepare('SELECT scope, epoch FROM revocation_epochs ORDER BY epoch').all()).toEqual([
      { scope: 'agent:agt_1', epoch: 5 },
      { scope: 'env:staging', epoch: 6 },
      { scope: 'all', epoch: 7 },
    ]);
  });
});
