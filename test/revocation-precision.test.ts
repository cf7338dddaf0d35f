import { describe, expect, it } from 'vitest';
import { testBroker } from './helpers/broker.js';

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
