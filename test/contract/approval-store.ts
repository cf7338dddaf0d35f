import { describe, expect, it } from 'vitest';
import type { ActionRequest, ApprovalRecord, ApprovalStore, ApproverKey } from '../../src/core/approvals/types.js';

// One contract for every implementation of the approval store: drizzle on better-sqlite3 and on
// D1 (inside workerd). Same answers, same single-winner promises.
const request: ActionRequest = {
  task_id: 'tsk_1',
  template: 'ops-maintenance',
  agent: 'agt_1',
  agent_name: 'ops-bot',
  owner: 'alice',
  environment: 'production',
  capability: 'volume.delete',
  resource: 'https://api.production.example/volumes',
  purpose: 'p',
  jkt: 'k1',
  trajectory: [{ at: '2026-01-01T00:00:00.000Z', kind: 'grant', detail: { type: 'task.opened' } }],
};
const record = (id: string, over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id,
  clientId: 'agt_1',
  request,
  digest: `d-${id}`,
  quorum: 2,
  groups: ['sre'],
  allowOwner: false,
  status: 'pending',
  statusReason: null,
  interval: 5,
  lastPollAt: null,
  createdAt: 1000,
  expiresAt: 9000,
  ...over,
});
const key = (kid: string, approverId = 'apr_1', over: Partial<ApproverKey> = {}): ApproverKey => ({
  kid,
  approverId,
  kind: 'jwk',
  jwk: { kty: 'OKP', crv: 'Ed25519', x: kid },
  publicKey: null,
  counter: 0,
  transports: null,
  createdAt: 1,
  retiredAt: null,
  ...over,
});
const N = 20;
const winners = async (calls: Promise<unknown>[]) => (await Promise.all(calls)).filter(Boolean).length;

export function approvalStoreContract(name: string, make: () => ApprovalStore | Promise<ApprovalStore>) {
  describe(`approval store contract: ${name}`, () => {
    it('approvers: unique by normalised name; get and list', async () => {
      const s = await make();
      expect(await s.approvers.create({ id: 'apr_1', name: 'Bob', nameKey: 'bob', groups: ['sre'], createdAt: 1 })).toBe(true);
      expect(await s.approvers.create({ id: 'apr_2', name: 'BOB', nameKey: 'bob', groups: ['sre'], createdAt: 2 })).toBe(false);
      expect(await s.approvers.get('apr_1')).toEqual({ id: 'apr_1', name: 'Bob', nameKey: 'bob', groups: ['sre'], createdAt: 1 });
      expect(await s.approvers.get('apr_2')).toBeUndefined();
      expect((await s.approvers.list()).map((a) => a.id)).toEqual(['apr_1']);
      // Exactly one of many concurrent registrations of one name wins.
      const wins = await winners(Array.from({ length: N }, (_, i) => s.approvers.create({ id: `apr_c${i}`, name: 'carol', nameKey: 'carol', groups: ['sre'], createdAt: 3 })));
      expect(wins).toBe(1);
    });

    it('keys: never duplicated; rotated and retired; the counter advances once', async () => {
      const s = await make();
      expect(await s.keys.add(key('k1'))).toBe(true);
      expect(await s.keys.add(key('k1', 'apr_2'))).toBe(false);
      expect(await s.keys.add(key('k2', 'apr_1', { createdAt: 2, kind: 'passkey', jwk: null, publicKey: 'pk', transports: ['internal'] }))).toBe(true);
      expect(await s.keys.get('k2')).toEqual(key('k2', 'apr_1', { createdAt: 2, kind: 'passkey', jwk: null, publicKey: 'pk', transports: ['internal'] }));
      expect((await s.keys.list('apr_1')).map((k) => k.kid)).toEqual(['k1', 'k2']);
      expect(await s.keys.retire('apr_2', 'k1', 5)).toBe(false); // not theirs
      expect(await winners(Array.from({ length: N }, () => s.keys.retire('apr_1', 'k1', 5)))).toBe(1);
      expect((await s.keys.list('apr_1')).map((k) => k.kid)).toEqual(['k2']);
      expect((await s.keys.get('k1'))?.retiredAt).toBe(5);
      expect(await winners(Array.from({ length: N }, (_, i) => s.keys.advanceCounter('k2', 0, i + 1)))).toBe(1);
      expect(await s.keys.advanceCounter('k2', 0, 1)).toBe(false);
      expect(await s.keys.advanceCounter('k1', 0, 1)).toBe(false); // retired
    });

    it('enrolment links: peeked while valid, used exactly once, dead after expiry', async () => {
      const s = await make();
      await s.enrolments.create({ tokenHash: 'h1', approverId: 'apr_1', expiresAt: 100 });
      await s.enrolments.create({ tokenHash: 'h2', approverId: 'apr_1', expiresAt: 100 });
      expect(await s.enrolments.peek('h1', 50)).toBe('apr_1');
      expect(await s.enrolments.peek('h1', 100)).toBeUndefined();
      const got = await Promise.all(Array.from({ length: N }, () => s.enrolments.use('h1', 50)));
      expect(got.filter(Boolean)).toEqual(['apr_1']);
      expect(await s.enrolments.peek('h1', 50)).toBeUndefined();
      expect(await s.enrolments.use('h2', 100)).toBeUndefined();
      expect(await s.enrolments.use('nope', 1)).toBeUndefined();
    });

    it('sessions: valid until expiry or their key’s retirement, gone once deleted', async () => {
      const s = await make();
      await s.keys.add(key('pk1', 'apr_1', { kind: 'passkey', jwk: null, publicKey: 'pk' }));
      await s.keys.add(key('pk2', 'apr_1', { kind: 'passkey', jwk: null, publicKey: 'pk' }));
      await s.sessions.create({ idHash: 's1', approverId: 'apr_1', kid: 'pk1', createdAt: 1, expiresAt: 100 });
      await s.sessions.create({ idHash: 's2', approverId: 'apr_1', kid: 'pk2', createdAt: 1, expiresAt: 100 });
      expect(await s.sessions.get('s1', 99)).toBe('apr_1');
      expect(await s.sessions.get('s1', 100)).toBeUndefined();
      await s.sessions.delete('s1');
      expect(await s.sessions.get('s1', 1)).toBeUndefined();
      expect(await s.sessions.get('s2', 1)).toBe('apr_1');
      await s.keys.retire('apr_1', 'pk2', 2);
      expect(await s.sessions.get('s2', 3)).toBeUndefined();
    });

    it('challenges: taken exactly once, for their purpose, before expiry', async () => {
      const s = await make();
      await s.challenges.put({ challenge: 'c1', purpose: 'decision', subject: 'apr_1|areq_1|approve', expiresAt: 100 });
      await s.challenges.put({ challenge: 'c2', purpose: 'signin', subject: '-', expiresAt: 100 });
      expect(await s.challenges.take('c1', 'signin', 1)).toBeUndefined();
      const got = await Promise.all(Array.from({ length: N }, () => s.challenges.take('c1', 'decision', 1)));
      expect(got.filter(Boolean)).toEqual(['apr_1|areq_1|approve']);
      expect(await s.challenges.take('c2', 'signin', 100)).toBeUndefined();
    });

    it('webhooks: add, list, remove once', async () => {
      const s = await make();
      await s.webhooks.add({ id: 'wh_1', url: 'https://hooks.example/a', createdAt: 1 });
      await s.webhooks.add({ id: 'wh_2', url: 'https://hooks.example/b', createdAt: 2 });
      expect(await s.webhooks.list()).toEqual([
        { id: 'wh_1', url: 'https://hooks.example/a', createdAt: 1 },
        { id: 'wh_2', url: 'https://hooks.example/b', createdAt: 2 },
      ]);
      expect(await winners(Array.from({ length: N }, () => s.webhooks.remove('wh_1')))).toBe(1);
      expect((await s.webhooks.list()).map((w) => w.id)).toEqual(['wh_2']);
    });

    it('requests: newest first; a transition has exactly one winner; touch records the poll', async () => {
      const s = await make();
      await s.requests.create(record('a1', { createdAt: 1000 }));
      await s.requests.create(record('a2', { createdAt: 2000 }));
      await s.requests.create(record('a3', { createdAt: 3000, status: 'denied' }));
      expect(await s.requests.get('a1')).toEqual(record('a1', { createdAt: 1000 }));
      expect((await s.requests.list('pending', 10)).map((r) => r.id)).toEqual(['a2', 'a1']);
      expect((await s.requests.list('pending', 1)).map((r) => r.id)).toEqual(['a2']);
      const wins = await winners(Array.from({ length: N }, (_, i) => s.requests.transition('a1', ['pending'], i % 2 ? 'approved' : 'denied', `r${i}`)));
      expect(wins).toBe(1);
      expect(await s.requests.transition('a1', ['pending'], 'voided', 'late')).toBe(false);
      // approved → delivered: one grant, whatever the number of concurrent polls.
      await s.requests.transition('a2', ['pending'], 'approved', 'quorum');
      expect(await winners(Array.from({ length: N }, () => s.requests.transition('a2', ['approved'], 'delivered', 'grant')))).toBe(1);
      expect((await s.requests.get('a2'))?.status).toBe('delivered');
      await s.requests.touch('a1', 4000, 10);
      expect(await s.requests.get('a1')).toMatchObject({ lastPollAt: 4000, interval: 10 });
    });

    it('decisions: one per approver per request, whatever the concurrency; listed in order', async () => {
      const s = await make();
      const wins = await winners(Array.from({ length: N }, (_, i) => s.decisions.add({ requestId: 'a1', approverId: 'apr_1', decision: i % 2 ? 'approve' : 'deny', jti: `j${i}`, at: 10 + i })));
      expect(wins).toBe(1);
      expect(await s.decisions.add({ requestId: 'a1', approverId: 'apr_2', decision: 'approve', jti: 'jx', at: 100 })).toBe(true);
      expect((await s.decisions.list('a1')).map((d) => d.approverId)).toEqual(['apr_1', 'apr_2']);
      expect(await s.decisions.list('a2')).toEqual([]);
    });

    it('requests: pruned once created and expired before the cut, with their decisions; newer ones stay', async () => {
      const s = await make();
      await s.requests.create(record('old1', { createdAt: 1000, expiresAt: 2000, status: 'delivered' }));
      await s.requests.create(record('old2', { createdAt: 1100, expiresAt: 2100 }));
      await s.requests.create(record('old3', { createdAt: 1200, expiresAt: 2200, status: 'denied' }));
      await s.requests.create(record('lives', { createdAt: 1300, expiresAt: 9000 }));
      await s.requests.create(record('new', { createdAt: 8000, expiresAt: 9000 }));
      for (const id of ['old1', 'old2', 'lives']) await s.decisions.add({ requestId: id, approverId: 'apr_1', decision: 'approve', jti: `j-${id}`, at: 1500 });
      expect(await s.requests.prune(5000, 2)).toBe(2);
      expect(await s.requests.prune(5000, 2)).toBe(1);
      expect(await s.requests.prune(5000, 2)).toBe(0);
      for (const id of ['old1', 'old2', 'old3']) {
        expect(await s.requests.get(id)).toBeUndefined();
        expect(await s.decisions.list(id)).toEqual([]);
      }
      expect(await s.requests.get('lives')).toBeDefined();
      expect(await s.decisions.list('lives')).toHaveLength(1);
      expect(await s.requests.get('new')).toBeDefined();
    });
  });
}
