import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { StintVerifier, stintAuth } from '../src/verify/index.js';
import { newKey, type KeyPair } from '../src/client/proofs.js';
import { liveBroker } from './helpers/live.js';

const CONFIG = 'https://api.staging.example/config';
const PROD_CONFIG = 'https://api.production.example/config';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(o: { environment?: string; audience?: string; maxStalenessMs?: number; now?: () => number } = {}) {
  const live = await liveBroker();
  cleanups.push(live.close);
  const audience = o.audience ?? CONFIG;
  const rs = await live.operator.resource('config', audience);
  const verifier = new StintVerifier({
    issuer: live.issuer,
    audience,
    environment: o.environment ?? 'staging',
    clientId: rs.client_id,
    clientSecret: rs.client_secret,
    maxStalenessMs: o.maxStalenessMs,
    now: o.now,
  });
  cleanups.push(() => verifier.stop());
  await verifier.start();
  const app = new Hono().post('/config', stintAuth(verifier, { capability: 'config.write' }), (c) => c.json({ ok: true, task: (c.get('stint') as any).task_id }));
  const agent = await live.operator.agent('coder', 'alice', ['fix-credentials']);
  const task = await agent.openTask('fix-credentials', 'staging', 'rotate');
  const cap = await agent.exchange(task.body.access_token, 'config.write');
  const hit = async (token = cap.body.access_token as string, key?: KeyPair, url = CONFIG) => app.request(await agent.request(url, token, { method: 'POST', proofKey: key }));
  return { live, verifier, app, agent, task, cap, hit };
}

const nextEvent = (v: StintVerifier, type: string) =>
  new Promise<void>((resolve) => {
    const off = v.onEvent((e) => {
      if (e.type === type) {
        off();
        resolve();
      }
    });
  });

describe('verifier middleware', () => {
  it('accepts a live DPoP-bound capability token and refuses what is not one', async () => {
    const s = await setup();
    const ok = await s.hit();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, task: s.task.body.task_id });

    const noProof = await s.app.request(new Request(CONFIG, { method: 'POST', headers: { Authorization: `DPoP ${s.cap.body.access_token}` } }));
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('WWW-Authenticate')).toMatch(/^DPoP error="invalid_token"/);
    expect((await s.hit(s.task.body.access_token)).status).toBe(401); // a task token is not a capability
    expect((await s.hit('garbage')).status).toBe(401);

    const read = await s.agent.exchange(s.task.body.access_token, 'config.read');
    const res = await s.hit(read.body.access_token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error).toBe('insufficient_scope');
  });

  it('rejects a token as soon as the revocation event is received', async () => {
    const s = await setup();
    expect((await s.hit()).status).toBe(200);
    const heard = nextEvent(s.verifier, 'task.revoked');
    await s.live.operator.call('POST', `/v1/tasks/${s.task.body.task_id}/revoke`, {});
    await heard;
    expect((await s.hit()).status).toBe(401);
  });

  it('follows scope revocations (environment epoch)', async () => {
    const s = await setup();
    const heard = nextEvent(s.verifier, 'scope.revoked');
    await s.live.operator.revoke({ environment: 'staging' });
    await heard;
    const res = await s.hit();
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error_description).toMatch(/revoked/);
  });

  it('reports a token presented with another key; the broker stops the presenting task', async () => {
    const s = await setup();
    const thief = await s.live.operator.agent('thief', 'mallory', ['fix-credentials']);
    const thiefTask = await thief.openTask('fix-credentials', 'staging', 'x');
    const res = await s.hit(s.cap.body.access_token, await thief.dpopKey());
    expect(res.status).toBe(401);
    // The report is made before the refusal is sent.
    const view = await s.live.operator.task(thiefTask.body.task_id);
    expect(view.body).toMatchObject({ status: 'stopped', status_reason: expect.stringMatching(/^substitution/) });
    const intro = await s.live.operator.task(s.task.body.task_id);
    expect(intro.body.status).toBe('active'); // the owner's task lives; its leaked token does not
    expect((await s.hit()).status).toBe(401);
  });

  it('reports a token of another environment; the broker stops its task', async () => {
    const s = await setup({ environment: 'production', audience: PROD_CONFIG });
    const res = await s.hit(s.cap.body.access_token, undefined, PROD_CONFIG);
    expect(res.status).toBe(401);
    const view = await s.live.operator.task(s.task.body.task_id);
    expect(view.body.status_reason).toMatch(/^environment_mismatch/);
  });

  it('a found token sent as Bearer or without a proof is leaked: revoked at the broker, its owner not stopped', async () => {
    const s = await setup();
    const bearer = await s.app.request(new Request(CONFIG, { method: 'POST', headers: { Authorization: `Bearer ${s.cap.body.access_token}` } }));
    expect(bearer.status).toBe(401);
    expect((await s.live.operator.task(s.task.body.task_id)).body.status).toBe('active');
    // Revoked before the refusal was sent: not even its owner can use it now.
    expect((await s.hit()).status).toBe(401);
  });

  it('the owner’s own retry replaying its proof is refused and not reported as a leak', async () => {
    const s = await setup();
    const req = await s.agent.request(CONFIG, s.cap.body.access_token, { method: 'POST' });
    const send = () => s.app.request(new Request(CONFIG, { method: 'POST', headers: req.headers }));
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(401);
    expect((await s.hit()).status).toBe(200); // a fresh proof: the token was not revoked
  });

  it('a junk proof that names the owner’s key is a leak: reported, the token revoked, its owner not stopped', async () => {
    const s = await setup();
    const forger = await newKey();
    const owners = await s.agent.dpopKey();
    const forged = await s.agent.request(CONFIG, s.cap.body.access_token, { method: 'POST', proofKey: { ...forger, publicJwk: owners.publicJwk } });
    const res = await s.app.request(forged);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^DPoP error="invalid_token"/);
    expect((await s.live.operator.task(s.task.body.task_id)).body.status).toBe('active');
    expect((await s.hit()).status).toBe(401); // revoked: a fresh, good proof no longer helps
  });

  it('a copied token of another environment, without its key’s proof, does not stop its owner', async () => {
    const s = await setup({ environment: 'production', audience: PROD_CONFIG });
    const copied = await s.app.request(new Request(PROD_CONFIG, { method: 'POST', headers: { Authorization: `DPoP ${s.cap.body.access_token}` } }));
    expect(copied.status).toBe(401);
    expect((await s.live.operator.task(s.task.body.task_id)).body.status).toBe('active');
  });

  it('fails closed when the event stream is down for longer than allowed', async () => {
    let t = Date.now();
    const s = await setup({ maxStalenessMs: 1000, now: () => t });
    expect((await s.hit()).status).toBe(200);
    await s.live.close();
    t += 1500;
    const res = await s.hit();
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error).toBe('temporarily_unavailable');
  });

  it('refuses everything before it has heard the broker', async () => {
    const v = new StintVerifier({ issuer: 'http://127.0.0.1:9', audience: CONFIG, environment: 'staging', clientId: 'x', clientSecret: 'y' });
    const app = new Hono().get('/', stintAuth(v), (c) => c.text('no'));
    expect((await app.request('https://api.staging.example/')).status).toBe(503);
  });
});
