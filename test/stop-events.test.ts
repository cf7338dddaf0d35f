import { beforeEach, describe, expect, it } from 'vitest';
import { dpopProof, newKey } from './helpers/agent.js';
import { ADMIN, testBroker, type TestBroker } from './helpers/broker.js';

let b: TestBroker;
beforeEach(async () => {
  b = await testBroker();
});

const task = async (id: string) => (await (await b.admin(`/v1/tasks/${id}`)).json()) as any;
const agentStatus = (id: string) => (b.sqlite.prepare('select status from agents where id = ?').get(id) as { status: string }).status;
const resource = async (audience: string) => {
  const r = (await (await b.admin('/v1/resources', { name: 'svc', audience })).json()) as any;
  return `Basic ${btoa(`${r.client_id}:${r.client_secret}`)}`;
};
const signal = (auth: string, body: unknown) =>
  b.request('/v1/signals', { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
/** What a resource service saw: the DPoP proof as it arrived with `token`, and the request's method and URL. */
const evidence = async (holder: { dpopKey(): Promise<Parameters<typeof dpopProof>[0]> }, token: string, htu: string, htm = 'GET') => ({
  token,
  dpop: await dpopProof(await holder.dpopKey(), htm, htu, { nowSec: b.nowSec(), accessToken: token }),
  htm,
  htu,
});

describe('rule 1: substitution seen by the broker', () => {
  it('another agent’s token as subject_token: the presenting task stops, its agent is locked, the leaked token is revoked', async () => {
    const victim = await b.registerAgent({ name: 'ops', templates: ['ops-maintenance'] });
    const prodTask = await victim.openTask('ops-maintenance', 'production');
    const prodCap = await victim.exchange(prodTask.body.access_token, { scope: 'db.read' });
    const coder = await b.registerAgent({ name: 'coder' });
    const staging = await coder.openTask();
    const stagingCap = await coder.exchange(staging.body.access_token, { scope: 'config.read' });

    const res = await coder.exchange(prodTask.body.access_token, { scope: 'volume.delete' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('task_stopped');
    expect(res.body.error_description).toMatch(/rule substitution/);

    const view = await task(staging.body.task_id);
    expect(view.status).toBe('stopped');
    expect(view.status_reason).toMatch(/^substitution: /);
    expect(view.events.at(-1)).toMatchObject({ kind: 'stop', detail: { rule: 'substitution', leaked_jti: expect.any(String) } });
    // Everything the stopped task holds is dead; the leaked token too; the victim's other tokens live on.
    expect(await b.introspect(stagingCap.body.access_token)).toEqual({ active: false });
    expect(await b.introspect(staging.body.access_token)).toEqual({ active: false });
    expect(await b.introspect(prodTask.body.access_token)).toEqual({ active: false });
    // A leaked task token ends its task (revoked): everything it held dies; its agent is not locked.
    expect(await b.introspect(prodCap.body.access_token)).toEqual({ active: false });
    expect((await task(prodTask.body.task_id)).status).toBe('revoked');
    // The presenter is locked; the victim is not.
    expect(agentStatus(coder.clientId)).toBe('locked');
    expect(agentStatus(victim.clientId)).toBe('active');
    const again = await coder.openTask();
    expect(again).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    // Every later request of the stopped task says so, naming the rule.
    const later = await coder.exchange(staging.body.access_token, { scope: 'config.read' });
    expect(later.body).toMatchObject({ error: 'task_stopped', error_description: expect.stringMatching(/substitution/) });
  });

  it('a credential the broker never issued is a stop too', async () => {
    const coder = await b.registerAgent();
    const t = await coder.openTask();
    const other = await testBroker();
    const stranger = await other.registerAgent();
    const foreign = await stranger.openTask();
    const res = await coder.exchange(foreign.body.access_token, { scope: 'config.read' });
    expect(res.body.error).toBe('task_stopped');
    expect((await task(t.body.task_id)).status).toBe('stopped');
  });

  it('its own task token under another DPoP key stops that task', async () => {
    const coder = await b.registerAgent();
    const t = await coder.openTask();
    const res = await coder.exchange(t.body.access_token, { scope: 'config.read' }, { dpop: await newKey() });
    expect(res.body.error).toBe('task_stopped');
    expect((await task(t.body.task_id)).status).toBe('stopped');
    expect(agentStatus(coder.clientId)).toBe('locked');
  });

  it('an expired own token is not substitution', async () => {
    const coder = await b.registerAgent();
    const t = await coder.openTask();
    b.clock.advance(3601);
    const res = await coder.exchange(t.body.access_token, { scope: 'config.read' });
    expect(res.body.error).toBe('invalid_grant');
    expect(agentStatus(coder.clientId)).toBe('active');
  });

  it('an operator releases a locked agent (audited), which may then open tasks again', async () => {
    const coder = await b.registerAgent();
    const t = await coder.openTask();
    await coder.exchange(t.body.access_token, { scope: 'config.read' }, { dpop: await newKey() });
    expect(agentStatus(coder.clientId)).toBe('locked');
    expect((await b.request(`/v1/agents/${coder.clientId}/release`, { method: 'POST' })).status).toBe(401);
    const rel = await b.admin(`/v1/agents/${coder.clientId}/release`, {});
    expect(rel.status).toBe(200);
    expect(((await rel.json()) as any).status).toBe('active');
    expect((await coder.openTask()).status).toBe(200);
    expect((await task(t.body.task_id)).status).toBe('stopped');
    const audit = (await (await b.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l).type);
    expect(audit).toContain('agent.released');
  });
});

describe('stop evasion: every sighting of a found token counts', () => {
  it('another agent’s task token at /v1/tasks/:id with the finder’s own key stops the finder’s task', async () => {
    const victim = await b.registerAgent({ name: 'victim' });
    const found = await victim.openTask();
    const finder = await b.registerAgent({ name: 'finder' });
    const own = await finder.openTask();
    const res = await finder.call('GET', `/v1/tasks/${found.body.task_id}`, found.body.access_token);
    expect(((await res.json()) as any).error).toBe('task_stopped');
    expect((await task(own.body.task_id)).status_reason).toMatch(/^substitution/);
    expect(agentStatus(finder.clientId)).toBe('locked');
    expect((await task(found.body.task_id)).status).toBe('revoked'); // leaked: revoked, its owner not locked
    expect(agentStatus(victim.clientId)).toBe('active');
  });

  it('a found token sent as Bearer, or with no proof, is revoked at the first sighting', async () => {
    const victim = await b.registerAgent({ name: 'victim' });
    const found = await victim.openTask();
    const bearer = await b.request(`/v1/tasks/${found.body.task_id}`, { headers: { Authorization: `Bearer ${found.body.access_token}` } });
    expect(bearer.status).toBe(401);
    expect((await task(found.body.task_id)).status).toBe('revoked');
    const other = await victim.openTask();
    const signal = await b.request('/v1/signals', { method: 'POST', headers: { Authorization: `DPoP ${other.body.access_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'tool_error' }) });
    expect(signal.status).toBe(401);
    expect((await task(other.body.task_id)).status).toBe('revoked');
    expect(agentStatus(victim.clientId)).toBe('active');
  });

  it('the owner’s own retry replaying its proof is refused, not taken for a leak', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const url = `http://localhost:8787/v1/tasks/${t.body.task_id}`;
    const proof = await dpopProof(await a.dpopKey(), 'GET', url, { nowSec: b.nowSec(), accessToken: t.body.access_token });
    const once = () => b.request(`/v1/tasks/${t.body.task_id}`, { headers: { Authorization: `DPoP ${t.body.access_token}`, DPoP: proof } });
    expect((await once()).status).toBe(200);
    const again = await once();
    expect(again.status).toBe(401);
    expect((await task(t.body.task_id)).status).toBe('active');
    expect(agentStatus(a.clientId)).toBe('active');
  });

  it('a junk proof that names the owner’s key does not pass for the owner’s mistake: the found token is revoked', async () => {
    const victim = await b.registerAgent({ name: 'victim' });
    const found = await victim.openTask();
    const url = `http://localhost:8787/v1/tasks/${found.body.task_id}`;
    const forger = await newKey();
    const owners = await victim.dpopKey();
    // The owner's public key copied into the header, signed by another: it cannot verify.
    const junk = await dpopProof({ ...forger, publicJwk: owners.publicJwk }, 'GET', url, { nowSec: b.nowSec(), accessToken: found.body.access_token });
    const res = await b.request(`/v1/tasks/${found.body.task_id}`, { headers: { Authorization: `DPoP ${found.body.access_token}`, DPoP: junk } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('invalid_token');
    expect((await task(found.body.task_id)).status).toBe('revoked');
    expect(agentStatus(victim.clientId)).toBe('active');
  });

  it('the owner’s proof with a skewed clock is refused (401 invalid_token), not taken for a leak', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const url = `http://localhost:8787/v1/tasks/${t.body.task_id}`;
    const stale = await dpopProof(await a.dpopKey(), 'GET', url, { nowSec: b.nowSec() - 600, accessToken: t.body.access_token });
    const res = await b.request(`/v1/tasks/${t.body.task_id}`, { headers: { Authorization: `DPoP ${t.body.access_token}`, DPoP: stale } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('invalid_token');
    expect((await task(t.body.task_id)).status).toBe('active');
    // The owner's proof for another URL verifies too, but its fault is not time: that is no retry.
    const elsewhere = await dpopProof(await a.dpopKey(), 'GET', 'http://localhost:8787/v1/other', { nowSec: b.nowSec(), accessToken: t.body.access_token });
    expect((await b.request(`/v1/tasks/${t.body.task_id}`, { headers: { Authorization: `DPoP ${t.body.access_token}`, DPoP: elsewhere } })).status).toBe(401);
    expect((await task(t.body.task_id)).status).toBe('revoked');
  });

  it('an expired foreign token is still substitution at the token endpoint (ownership before expiry)', async () => {
    const victim = await b.registerAgent({ name: 'victim' });
    const found = await victim.openTask();
    const finder = await b.registerAgent({ name: 'finder' });
    const own = await finder.openTask();
    b.clock.advance(3601); // the found task token has expired
    const fresh = await finder.openTask();
    const res = await finder.exchange(found.body.access_token, { scope: 'config.read' });
    expect(res.body.error).toBe('task_stopped');
    expect((await task(fresh.body.task_id)).status_reason).toMatch(/^substitution/);
    expect(own.status).toBe(200);
  });
});

describe('task hopping: the trajectory is the agent’s, not the task’s', () => {
  it('a refusal in one task, then more risk asked in a fresh task: escalation stops it', async () => {
    const a = await b.registerAgent();
    const first = await a.openTask();
    expect((await a.exchange(first.body.access_token, { scope: 'db.read' })).body.error).toBe('invalid_authorization_details');
    const fresh = await a.openTask();
    const res = await a.exchange(fresh.body.access_token, { scope: 'config.write' });
    expect(res.body.error).toBe('task_stopped');
    expect((await task(fresh.body.task_id)).status_reason).toMatch(/^escalation_after_denial/);
    expect(agentStatus(a.clientId)).toBe('locked');
  });
});

describe('rule 2: credential_substitution reported by a resource service', () => {
  it('revokes the leaked token and stops the task bound to the presenting key', async () => {
    const owner = await b.registerAgent({ name: 'owner', templates: ['ops-maintenance'] });
    const ownerTask = await owner.openTask('ops-maintenance', 'production');
    const leaked = await owner.exchange(ownerTask.body.access_token, { scope: 'db.read' });
    const thief = await b.registerAgent({ name: 'thief' });
    const thiefTask = await thief.openTask();
    const rs = await resource('https://api.production.example/db');

    const res = await signal(rs, { type: 'credential_substitution', ...(await evidence(thief, leaked.body.access_token, 'https://api.production.example/db/prod')), detail: 'DPoP key mismatch' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, stopped_tasks: [thiefTask.body.task_id], revoked_tokens: [expect.any(String)] });
    expect(await b.introspect(leaked.body.access_token)).toEqual({ active: false });
    expect((await task(thiefTask.body.task_id)).status).toBe('stopped');
    expect(agentStatus(thief.clientId)).toBe('locked');
    expect(agentStatus(owner.clientId)).toBe('active');
    expect((await task(ownerTask.body.task_id)).status).toBe('active');
  });

  it('a report proving the token’s own key changes nothing; one without a verifiable proof stops nobody and only revokes the token', async () => {
    const owner = await b.registerAgent();
    const t = await owner.openTask();
    const cap = await owner.exchange(t.body.access_token, { scope: 'config.read' });
    const rs = await resource('https://api.staging.example/config');
    const own = await signal(rs, { type: 'credential_substitution', ...(await evidence(owner, cap.body.access_token, 'https://api.staging.example/config/x')) });
    expect(await own.json()).toEqual({ accepted: true, stopped_tasks: [], revoked_tokens: [] });
    expect(await b.introspect(cap.body.access_token)).toMatchObject({ active: true });
    // A bare thumbprint is no evidence: the token has leaked (revoked), its owner stays untouched.
    const bare = await signal(rs, { type: 'credential_substitution', token: cap.body.access_token, presented_jkt: (await owner.dpopKey()).jkt });
    expect(await bare.json()).toEqual({ accepted: true, stopped_tasks: [], revoked_tokens: [expect.any(String)] });
    expect((await task(t.body.task_id)).status).toBe('active');
    expect(agentStatus(owner.clientId)).toBe('active');
  });

  it('a proof whose htu is not on the reporting service’s own audience is not evidence', async () => {
    const owner = await b.registerAgent({ name: 'owner', templates: ['ops-maintenance'] });
    const ownerTask = await owner.openTask('ops-maintenance', 'production');
    const leaked = await owner.exchange(ownerTask.body.access_token, { scope: 'db.read' });
    const innocent = await b.registerAgent({ name: 'innocent' });
    const innocentTask = await innocent.openTask();
    const rs = await resource('https://api.production.example/db');
    // A proof the innocent agent made for another service, replayed in a report.
    const res = await signal(rs, { type: 'credential_substitution', ...(await evidence(innocent, leaked.body.access_token, 'https://api.staging.example/config/x')) });
    expect(((await res.json()) as any).stopped_tasks).toEqual([]);
    expect((await task(innocentTask.body.task_id)).status).toBe('active');
    expect(agentStatus(innocent.clientId)).toBe('active');
    // A proof over another token (ath) is not evidence either.
    const other = await signal(rs, { type: 'credential_substitution', ...(await evidence(innocent, innocentTask.body.access_token, 'https://api.production.example/db/x')), token: leaked.body.access_token });
    expect(((await other.json()) as any).stopped_tasks).toEqual([]);
    expect((await task(innocentTask.body.task_id)).status).toBe('active');
  });

  it('an agent’s harness cannot report substitution', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const { dpopProof } = await import('./helpers/agent.js');
    const proof = await dpopProof(await a.dpopKey(), 'POST', 'http://localhost:8787/v1/signals', { nowSec: b.nowSec(), accessToken: t.body.access_token });
    const res = await b.request('/v1/signals', {
      method: 'POST',
      headers: { Authorization: `DPoP ${t.body.access_token}`, DPoP: proof, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'credential_substitution', token: 'x', presented_jkt: 'a'.repeat(43) }),
    });
    expect(res.status).toBe(403);
  });
});

describe('rule 3: environment_mismatch', () => {
  it('a staging token presented to production stops its task', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const prod = await resource('https://api.production.example/config');
    const res = await signal(prod, { type: 'environment_mismatch', ...(await evidence(a, cap.body.access_token, 'https://api.production.example/config/x')) });
    expect(res.status).toBe(202);
    expect(((await res.json()) as any).stopped_tasks).toEqual([t.body.task_id]);
    const view = await task(t.body.task_id);
    expect(view.status).toBe('stopped');
    expect(view.status_reason).toMatch(/^environment_mismatch/);
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
  });

  it('a service registered at an origin serves the environment its host belongs to: the crossing stops the task', async () => {
    // The issue's reproduction: the service is registered at its origin, not at a capability's URI.
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const prod = await resource('https://api.production.example');
    const res = await signal(prod, { type: 'environment_mismatch', ...(await evidence(a, cap.body.access_token, 'https://api.production.example/config')) });
    expect(res.status).toBe(202);
    expect(((await res.json()) as any).stopped_tasks).toEqual([t.body.task_id]);
    const view = await task(t.body.task_id);
    expect(view.status).toBe('stopped');
    expect(view.status_reason).toMatch(/^environment_mismatch: a staging token was presented to https:\/\/api\.production\.example, which serves production/);
    expect(agentStatus(a.clientId)).toBe('locked');
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
  });

  it('a service on a host of production’s `hosts` pattern, under no capability’s resource, serves production', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const prod = await resource('https://billing.production.example:8443/v2');
    const res = await signal(prod, { type: 'environment_mismatch', ...(await evidence(a, cap.body.access_token, 'https://billing.production.example:8443/v2/invoices')) });
    expect(((await res.json()) as any).stopped_tasks).toEqual([t.body.task_id]);
  });

  it('a report from a service of the token’s own environment stops nothing', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const staging = await resource('https://api.staging.example');
    const same = await signal(staging, { type: 'environment_mismatch', ...(await evidence(a, cap.body.access_token, 'https://api.staging.example/config/x')) });
    expect(same.status).toBe(202);
    expect(((await same.json()) as any).stopped_tasks).toEqual([]);
    expect((await task(t.body.task_id)).status).toBe('active');
  });

  it('registering a resource service says which environment it serves (null: none)', async () => {
    const reg = async (audience: string) => (await (await b.admin('/v1/resources', { name: 'svc', audience })).json()) as any;
    expect((await reg('https://api.production.example')).environment).toBe('production');
    expect((await reg('https://api.staging.example/config')).environment).toBe('staging');
    expect((await reg('https://unmapped.example/api')).environment).toBeNull();
  });

  it('a service whose audience maps to no environment cannot report environment_mismatch: 400 invalid_request, naming why', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const nowhere = await resource('https://unmapped.example/api');
    const none = await signal(nowhere, { type: 'environment_mismatch', ...(await evidence(a, cap.body.access_token, 'https://unmapped.example/api/x')) });
    expect(none.status).toBe(400);
    const body = (await none.json()) as any;
    expect(body.error).toBe('invalid_request');
    expect(body.detail).toMatch(/https:\/\/unmapped\.example\/api is on no environment's hosts/);
    // Refused, not taken as evidence: the task and its token live on.
    expect((await task(t.body.task_id)).status).toBe('active');
    expect(agentStatus(a.clientId)).toBe('active');
    expect(await b.introspect(cap.body.access_token)).toMatchObject({ active: true });
    // The same service may still report what it can tell (a token presented without its key's proof).
    const leak = await signal(nowhere, { type: 'credential_substitution', token: cap.body.access_token });
    expect(leak.status).toBe(202);
  });

  it('a copied token without a proof of its key does not stop its owner', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const prod = await resource('https://api.production.example/config');
    const res = await signal(prod, { type: 'environment_mismatch', token: cap.body.access_token });
    expect(((await res.json()) as any).stopped_tasks).toEqual([]);
    expect((await task(t.body.task_id)).status).toBe('active');
    expect(agentStatus(a.clientId)).toBe('active');
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
  });
});

describe('rule 4: destructive outside the ceiling', () => {
  it('stops the task; a non-destructive request outside the ceiling is only refused', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const read = await a.exchange(t.body.access_token, { scope: 'db.read' });
    expect(read.body.error).toBe('invalid_authorization_details');
    expect((await task(t.body.task_id)).status).toBe('active');

    const other = await b.registerAgent({ name: 'other' });
    const t2 = await other.openTask();
    const del = await other.exchange(t2.body.access_token, { scope: 'volume.delete' });
    expect(del.body).toMatchObject({ error: 'invalid_authorization_details', error_description: expect.stringMatching(/stopped by rule destructive_outside_ceiling/) });
    expect((await task(t2.body.task_id)).status_reason).toMatch(/^destructive_outside_ceiling/);
    expect((await task(t.body.task_id)).status).toBe('active');
  });

  it('every stop locks its agent and ends what it holds on its other tasks, under other keys', async () => {
    const a = await b.registerAgent();
    const first = await a.openTask();
    const firstCap = await a.exchange(first.body.access_token, { scope: 'config.read' });
    const otherKey = await newKey(); // another task under another DPoP key
    const second = await a.openTask(undefined, undefined, { dpop: otherKey });
    const del = await a.exchange(second.body.access_token, { scope: 'volume.delete' }, { dpop: otherKey });
    expect(del.body.error).toBe('invalid_authorization_details');
    expect(agentStatus(a.clientId)).toBe('locked');
    expect(await b.introspect(firstCap.body.access_token)).toEqual({ active: false });
    expect((await a.exchange(first.body.access_token, { scope: 'config.read' })).body.error).not.toBeUndefined();
    expect((await task(first.body.task_id)).status).toBe('revoked');
    expect((await a.openTask()).body.error).toBe('unauthorized_client');
  });

});

describe('rule 5: escalation after a denial', () => {
  it('higher risk after a refusal stops the task', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    await a.exchange(t.body.access_token, { scope: 'db.read' }); // read, refused
    const res = await a.exchange(t.body.access_token, { scope: 'config.write' }); // write: higher
    expect(res.body).toMatchObject({ error: 'task_stopped', error_description: expect.stringMatching(/escalation_after_denial/) });
  });

  it('another environment after a refusal stops the task', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    await a.exchange(t.body.access_token, { scope: 'db.read' });
    const res = await a.exchange(t.body.access_token, { scope: 'config.read', resource: 'https://api.production.example/config' });
    expect(res.body.error).toBe('task_stopped');
  });

  it('the same risk after a refusal is allowed, and the window forgets', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    await a.exchange(t.body.access_token, { scope: 'db.read' });
    expect((await a.exchange(t.body.access_token, { scope: 'config.read' })).status).toBe(200);
    b.clock.advance(601);
    expect((await a.exchange(t.body.access_token, { scope: 'config.write' })).status).toBe(200);
  });
});

describe('revocation scopes: in force before the call returns', () => {
  async function fleet() {
    const s1 = await b.registerAgent({ name: 's1' });
    const s2 = await b.registerAgent({ name: 's2' });
    const p1 = await b.registerAgent({ name: 'p1', templates: ['ops-maintenance'] });
    const t1 = await s1.openTask();
    const t2 = await s2.openTask();
    const t3 = await p1.openTask('ops-maintenance', 'production');
    const c1 = await s1.exchange(t1.body.access_token, { scope: 'config.read' });
    const c2 = await s2.exchange(t2.body.access_token, { scope: 'config.read' });
    const c3 = await p1.exchange(t3.body.access_token, { scope: 'db.read' });
    return { s1, s2, p1, tokens: [c1, c2, c3].map((c) => c.body.access_token as string) };
  }
  const live = async (tokens: string[]) => Promise.all(tokens.map(async (t) => (await b.introspect(t)).active === true));

  it('one agent', async () => {
    const f = await fleet();
    const res = await b.admin('/v1/revocations', { agent: f.s1.clientId });
    expect(res.status).toBe(200);
    expect(await live(f.tokens)).toEqual([false, true, true]);
    b.clock.advance(1);
    expect((await f.s1.openTask()).status).toBe(200); // revoked, not locked
  });

  it('one environment', async () => {
    const f = await fleet();
    await b.admin('/v1/revocations', { environment: 'staging' });
    expect(await live(f.tokens)).toEqual([false, false, true]);
  });

  it('everything', async () => {
    const f = await fleet();
    await b.admin('/v1/revocations', { all: true });
    expect(await live(f.tokens)).toEqual([false, false, false]);
  });

  it('tokens issued after the revocation (next second) work', async () => {
    const f = await fleet();
    await b.admin('/v1/revocations', { environment: 'staging' });
    b.clock.advance(1);
    const t = await f.s2.openTask();
    const c = await f.s2.exchange(t.body.access_token, { scope: 'config.read' });
    expect((await b.introspect(c.body.access_token)).active).toBe(true);
  });

  it('is one write whatever the number of live tokens', async () => {
    await fleet();
    const before = (b.sqlite.prepare('select total_changes() n').get() as { n: number }).n;
    await b.admin('/v1/revocations', { environment: 'staging' });
    const after = (b.sqlite.prepare('select total_changes() n').get() as { n: number }).n;
    expect(after - before).toBe(2); // the epoch row and its audit record
  });

  it('refuses unknown scopes and malformed bodies', async () => {
    expect((await b.admin('/v1/revocations', { environment: 'mars' })).status).toBe(404);
    expect((await b.admin('/v1/revocations', { all: false })).status).toBe(400);
    expect((await b.admin('/v1/revocations', { agent: 'x', all: true })).status).toBe(400);
    expect((await b.request('/v1/revocations', { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}x`, 'Content-Type': 'application/json' }, body: '{"all":true}' })).status).toBe(401);
  });
});

describe('tool_error signals', () => {
  it('are recorded in the trajectory', async () => {
    const a = await b.registerAgent();
    const t = await a.openTask();
    const rs = await resource('https://api.staging.example/config');
    expect((await signal(rs, { type: 'tool_error', task_id: t.body.task_id, detail: 'connection refused' })).status).toBe(202);
    const view = await task(t.body.task_id);
    expect(view.events.at(-1)).toMatchObject({ kind: 'signal', detail: { type: 'signal.tool_error', detail: 'connection refused' } });
    expect(view.status).toBe('active');
  });
});

describe('rules set to refuse instead of stop', () => {
  it('escalation after a denial is refused, and the task lives on', async () => {
    const { compilePolicy } = await import('../src/policy/load.js');
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { POLICIES_DIR } = await import('./helpers/policy.js');
    const policy = compilePolicy(
      readdirSync(POLICIES_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => ({ file: f, text: readFileSync(join(POLICIES_DIR, f), 'utf8').replace('escalation_after_denial: stop', 'escalation_after_denial: refuse') })),
    );
    const r = await testBroker({ policy });
    const a = await r.registerAgent();
    const t = await a.openTask();
    await a.exchange(t.body.access_token, { scope: 'db.read' });
    const res = await a.exchange(t.body.access_token, { scope: 'config.write' });
    expect(res.body).toMatchObject({ error: 'invalid_authorization_details', error_description: expect.stringMatching(/after a refusal/) });
    const view = (await (await r.admin(`/v1/tasks/${t.body.task_id}`)).json()) as any;
    expect(view.status).toBe('active');
  });
});

describe('substitution and environment mismatch set to refuse', () => {
  async function refusing(rule: string) {
    const { compilePolicy } = await import('../src/policy/load.js');
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { POLICIES_DIR } = await import('./helpers/policy.js');
    return testBroker({
      policy: compilePolicy(
        readdirSync(POLICIES_DIR)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => ({ file: f, text: readFileSync(join(POLICIES_DIR, f), 'utf8').replace(`${rule}: stop`, `${rule}: refuse`) })),
      ),
    });
  }

  it('substitution is refused and recorded; nothing is stopped or locked', async () => {
    const r = await refusing('substitution');
    const owner = await r.registerAgent({ name: 'owner' });
    const thief = await r.registerAgent({ name: 'thief' });
    const leaked = await owner.openTask();
    const own = await thief.openTask();
    const res = await thief.exchange(leaked.body.access_token, { scope: 'config.read' });
    expect(res.body.error).toBe('invalid_grant');
    const view = (await (await r.admin(`/v1/tasks/${own.body.task_id}`)).json()) as any;
    expect(view.status).toBe('active');
    expect(view.events.at(-1).detail.type).toBe('credential.refused');
    expect((await thief.openTask()).status).toBe(200);
  });

  it('environment mismatch is recorded as a signal; the task lives on', async () => {
    const r = await refusing('environment_mismatch');
    const a = await r.registerAgent();
    const t = await a.openTask();
    const cap = await a.exchange(t.body.access_token, { scope: 'config.read' });
    const rs = (await (await r.admin('/v1/resources', { name: 'p', audience: 'https://api.production.example/config' })).json()) as any;
    const res = await r.request('/v1/signals', {
      method: 'POST',
      headers: { Authorization: `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'environment_mismatch', token: cap.body.access_token, htm: 'GET', htu: 'https://api.production.example/config/x', dpop: await dpopProof(await a.dpopKey(), 'GET', 'https://api.production.example/config/x', { nowSec: r.nowSec(), accessToken: cap.body.access_token }) }),
    });
    expect(((await res.json()) as any).stopped_tasks).toEqual([]);
    const view = (await (await r.admin(`/v1/tasks/${t.body.task_id}`)).json()) as any;
    expect(view.status).toBe('active');
    expect(view.events.at(-1).detail.type).toBe('signal.environment_mismatch');
  });
});
