import { describe, expect, it } from 'vitest';
import { testBroker } from './helpers/broker.js';
import { RevocationView } from '../src/verify/revocation-view.js';

// Issue 23 item 6: revocation epochs were compared at whole seconds, so a task opened in the
// same second as its agent's or environment's revocation was dead on arrival.
describe('revocation epochs with sub-second precision', () => {
  it('a task opened a millisecond after its agent was revoked works; one opened before it is revoked', async () => {
    const b = await testBroker();
    b.clock.t = Date.UTC(2026, 10, 21, 12, 0, 0, 400); // mid-second
    const agent = await b.registerAgent();
    const before = await agent.openTask();
    expect(before.status).toBe(200);
    expect((await b.admin('/v1/revocations', { agent: agent.clientId })).status).toBe(200);
    b.clock.t += 1; // same second, one millisecond later
    const after = await agent.openTask();
    expect(after.status).toBe(200);
    expect((await agent.exchange(after.body.access_token, { scope: 'config.read' })).status).toBe(200);
    expect((await b.introspect(after.body.access_token)).active).toBe(true);
    expect((await b.introspect(before.body.access_token)).active).toBe(false);
    expect((await agent.exchange(before.body.access_token, { scope: 'config.read' })).status).not.toBe(200);
    await b.close();
  });

  it('the same for an environment', async () => {
    const b = await testBroker();
    b.clock.t = Date.UTC(2026, 10, 21, 12, 0, 0, 900);
    const agent = await b.registerAgent();
    const before = await agent.openTask();
    expect((await b.admin('/v1/revocations', { environment: 'staging' })).status).toBe(200);
    b.clock.t += 1;
    const after = await agent.openTask();
    expect(after.status).toBe(200);
    expect((await b.introspect(after.body.access_token)).active).toBe(true);
    expect((await b.introspect(before.body.access_token)).active).toBe(false);
    await b.close();
  });
});

describe('the offline verifier, to the millisecond', () => {
  const claims = (o: { iatMs: number; openedMs?: number }) => ({
    jti: 'j',
    sub: 'agent-1',
    env: 'staging',
    task_id: 't',
    iat: Math.floor(o.iatMs / 1000),
    ...(o.openedMs === undefined ? {} : { task_opened_ms: o.openedMs }),
  });
  const revokedAt = Date.UTC(2026, 10, 21, 12, 0, 0, 400);
  const view = () => {
    const v = new RevocationView();
    v.apply({ type: 'scope.revoked', scope: 'agent:agent-1', epoch: revokedAt }, revokedAt);
    return v;
  };

  it('a task opened a millisecond after its agent was revoked: its tokens live at the resource', () => {
    expect(view().isRevoked(claims({ iatMs: revokedAt + 5, openedMs: revokedAt + 1 }))).toBe(false);
  });

  it('a token minted after the epoch for a task opened before it is revoked (the in-flight mint)', () => {
    expect(view().isRevoked(claims({ iatMs: revokedAt + 1500, openedMs: revokedAt - 1 }))).toBe(true);
    expect(view().isRevoked(claims({ iatMs: revokedAt + 1500, openedMs: revokedAt }))).toBe(true);
  });

  it('a token without the claim (a grant, an older token) still errs towards revoking within the second', () => {
    expect(view().isRevoked(claims({ iatMs: revokedAt + 1 }))).toBe(true);
    expect(view().isRevoked(claims({ iatMs: revokedAt + 1000 }))).toBe(false);
  });

  it('the broker puts the task opening time in task and capability tokens', async () => {
    const b = await testBroker();
    b.clock.t = Date.UTC(2026, 10, 21, 12, 0, 0, 250);
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    const payload = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());
    expect(payload(task.body.access_token).task_opened_ms).toBe(b.clock.t);
    expect(payload(cap.body.access_token).task_opened_ms).toBe(b.clock.t);
    await b.close();
  });
});
