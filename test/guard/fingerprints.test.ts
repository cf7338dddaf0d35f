// Issue 19: fingerprints were 16 hex digits of an unsalted SHA-256 (a dictionary of seven words
// recovered "Summer2024!") and every pushed event carried the whole stop record to every
// resource service and SET receiver. Now the broker keys them, and pushed events carry ids,
// scope, epoch and a reason code, to the subscribers whose environment they concern.
import { createHash } from 'node:crypto';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { dpopProof } from '../../src/client/proofs.js';
import { credentialDigest, FINGERPRINT_SECRET } from '../../src/core/fingerprints.js';
import { SESSION_REVOKED } from '../../src/core/set.js';
import { ADMIN, ISSUER, testBroker, type TestBroker } from '../helpers/broker.js';
import { claudeBash, guardStack } from './helpers.js';

const PASSWORD = 'Summer2024!';
const DICTIONARY = ['password', '123456', 'qwerty', 'letmein', 'Winter2023!', 'Spring2024!', PASSWORD, 'hunter2', 'admin123'];
const unkeyed = (w: string) => createHash('sha256').update(w).digest('hex');

/** Reads `/v1/events` with `auth` until `until` says enough. */
async function stream(b: TestBroker, auth: string) {
  const res = await b.request('/v1/events?last_event_id=0', { headers: { Authorization: auth } });
  expect(res.status).toBe(200);
  const got: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => m.event !== 'heartbeat' && m.event !== 'stream.open' && got.push(m) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      parser.feed(value!);
    }
  })();
  return {
    async until(f: (events: any[]) => boolean) {
      await expect.poll(() => f(got.map((m) => JSON.parse(m.data))), { timeout: 3000 }).toBe(true);
      return got.map((m) => JSON.parse(m.data));
    },
    close: async () => {
      await reader.cancel().catch(() => undefined);
      await reading;
    },
  };
}

/** An agent's task, and a plain AuthZEN client for it. */
async function taskOf(b: TestBroker, template = 'fix-credentials', environment = 'staging') {
  const agent = await b.registerAgent({ name: `agent-${crypto.randomUUID().slice(0, 8)}`, templates: [template] });
  const opened = await agent.openTask(template, environment);
  expect(opened.status).toBe(200);
  const key = await agent.dpopKey();
  const token = opened.body.access_token as string;
  const evaluate = async (properties: Record<string, unknown>) => {
    const path = '/access/v1/evaluation';
    const res = await b.request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `DPoP ${token}`, DPoP: await dpopProof(key, 'POST', `${ISSUER}${path}`, { nowSec: b.nowSec(), accessToken: token }) },
      body: JSON.stringify({
        subject: { type: 'agent', id: agent.clientId, properties: { task_id: opened.body.task_id } },
        action: { name: 'tool_call', properties: { stage: 'pre', tool: 'Bash', credentials: [], exposed: [], calls: [], ...properties } },
        resource: { type: 'tool', id: 'Bash' },
      }),
    });
    return (await res.json()) as any;
  };
  return { agent, taskId: opened.body.task_id as string, token, evaluate };
}

describe('keyed fingerprints', () => {
  it('what the broker records of a credential is keyed: a dictionary of common passwords matches nothing, and the hook\'s unkeyed digest is stored nowhere', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash(`curl -H "X-Api-Key: ${PASSWORD}" https://api.staging.example/config`, s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect((await s.task()).status).toBe('stopped');

    const audit = await (await s.broker.admin('/v1/audit')).text();
    const trajectory = JSON.stringify(await s.task());
    const stop = (await s.task()).events.find((e: any) => e.detail.type === 'task.stopped').detail;
    const recorded: string[] = stop.fingerprints.map((f: any) => f.fingerprint);
    expect(recorded).toHaveLength(1);
    // the broker's key decides the fingerprint: the same digest keys to the same fingerprint, …
    expect(recorded[0]).toBe(s.broker.core.fingerprint(credentialDigest(PASSWORD)));
    // … and no unkeyed digest of any dictionary word, at any length, is anywhere in the records
    for (const word of DICTIONARY) {
      for (const n of [16, 20, 32, 64]) {
        expect(audit).not.toContain(unkeyed(word).slice(0, n));
        expect(trajectory).not.toContain(unkeyed(word).slice(0, n));
        expect(recorded).not.toContain(unkeyed(word).slice(0, n));
      }
    }
    expect(audit).not.toContain(PASSWORD);
  });

  it('the key is the deployment\'s: made once, sealed in the store, never listed by the vault API; another deployment keys differently', async () => {
    const a = await testBroker();
    const b = await testBroker();
    const row = await a.core.store.secrets.get(FINGERPRINT_SECRET);
    expect(row).toBeDefined();
    expect(row!.sealedValue).not.toMatch(/^[0-9a-f]{64}$/);
    const listed = (await (await a.admin('/v1/secrets')).json()) as any;
    expect(listed.secrets.map((x: any) => x.name)).not.toContain(FINGERPRINT_SECRET);
    const digest = credentialDigest(PASSWORD);
    expect(a.core.fingerprint(digest)).toMatch(/^[0-9a-f]{20}$/);
    expect(a.core.fingerprint(digest)).not.toBe(b.core.fingerprint(digest));
    // the vault API cannot replace it: its names hold no ':'
    expect((await a.admin('/v1/secrets', { name: FINGERPRINT_SECRET, value: 'x'.repeat(32) })).status).toBe(400);
  });
});

describe('pushed events carry what a verifier needs, to whom it concerns', () => {
  it('a stop pushed on /v1/events has no fingerprint, tool or free text: ids, environment and the rule as its reason', async () => {
    const b = await testBroker();
    const ev = await stream(b, `Bearer ${ADMIN}`);
    const t = await taskOf(b);
    const d = await t.evaluate({ credentials: [{ kind: 'env:api_key', fingerprint: unkeyed(PASSWORD).slice(0, 16), position: 'env' }] });
    expect(d.context).toMatchObject({ rule: 'substitution', stopped: true });
    const events = await ev.until((es) => es.some((e) => e.type === 'task.stopped'));
    await ev.close();
    const stop = events.find((e) => e.type === 'task.stopped');
    expect(stop).toMatchObject({ task_id: t.taskId, agent: t.agent.clientId, environment: 'staging', rule: 'substitution', reason: 'substitution' });
    expect(Object.keys(stop).sort()).toEqual(['agent', 'at', 'environment', 'id', 'reason', 'rule', 'task_id', 'type']);
    const text = JSON.stringify(events);
    expect(text).not.toContain('fingerprint');
    expect(text).not.toContain(unkeyed(PASSWORD).slice(0, 16));
    expect(text).not.toContain(b.core.fingerprint(unkeyed(PASSWORD).slice(0, 16)));
  });

  it('a SET pushed to a receiver carries the same minimal event', async () => {
    const sets: string[] = [];
    const b = await testBroker({ setFetch: (async (_url: string, init: RequestInit) => (sets.push(String(init.body)), new Response(null, { status: 202 }))) as typeof fetch });
    expect((await b.admin('/v1/receivers', { endpoint: 'https://siem.example/sets', audience: 'https://siem.example' })).status).toBe(201);
    const t = await taskOf(b);
    await t.evaluate({ credentials: [{ kind: 'env:api_key', fingerprint: unkeyed(PASSWORD).slice(0, 16), position: 'env' }] });
    await expect.poll(() => sets.map((x) => (decodeJwt(x).events as any)[SESSION_REVOKED].stint_event.type)).toContain('task.stopped');
    const stop = sets.map((x) => (decodeJwt(x).events as any)[SESSION_REVOKED]).find((e) => e.stint_event.type === 'task.stopped');
    expect(stop.stint_event).not.toHaveProperty('fingerprints');
    expect(stop.stint_event).not.toHaveProperty('tool');
    expect(stop.reason_admin).toEqual({ en: 'substitution' });
  });

  it('a resource service of production hears production\'s events and those naming no environment, never staging\'s; a SET receiver likewise', async () => {
    const sets: { aud: string; type: string; env?: string }[] = [];
    const b = await testBroker({
      setFetch: (async (_url: string, init: RequestInit) => {
        const p = decodeJwt(String(init.body));
        const e = (p.events as any)[SESSION_REVOKED].stint_event;
        sets.push({ aud: String(p.aud), type: e.type, env: e.environment });
        return new Response(null, { status: 202 });
      }) as typeof fetch,
    });
    const svc = (await (await b.admin('/v1/resources', { name: 'prod-volumes', audience: 'https://api.production.example/volumes' })).json()) as any;
    expect((await b.admin('/v1/receivers', { endpoint: 'https://siem.staging.example/sets', audience: 'https://api.staging.example' })).status).toBe(201);
    const ev = await stream(b, `Basic ${btoa(`${svc.client_id}:${svc.client_secret}`)}`);
    const staging = await taskOf(b);
    const production = await taskOf(b, 'ops-maintenance', 'production');
    expect((await b.admin(`/v1/tasks/${staging.taskId}/revoke`, {})).status).toBe(200);
    expect((await b.admin(`/v1/tasks/${production.taskId}/revoke`, {})).status).toBe(200);
    expect((await b.admin('/v1/revocations', { environment: 'staging' })).status).toBe(200);
    expect((await b.admin('/v1/revocations', { agent: staging.agent.clientId })).status).toBe(200);
    const events = await ev.until((es) => es.some((e) => e.type === 'scope.revoked' && e.scope === `agent:${staging.agent.clientId}`));
    await ev.close();
    expect(events.filter((e) => e.type === 'task.revoked').map((e) => e.task_id)).toEqual([production.taskId]);
    expect(events.filter((e) => e.type === 'scope.revoked').map((e) => e.scope)).toEqual([`agent:${staging.agent.clientId}`]);
    // the staging receiver: staging's revocations and the agent's scope, not production's
    await expect.poll(() => sets.filter((s) => s.type === 'scope.revoked').length).toBe(2);
    expect(sets.filter((s) => s.type === 'task.revoked').map((s) => s.env)).toEqual(['staging']);
  });
});
