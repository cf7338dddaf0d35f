import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, testBroker, type TestBroker } from './helpers/broker.js';

// Malformed input at every endpoint: the answer is a clear 4xx error, never a 5xx, never a token.

let b: TestBroker;
let taskToken: string;
let taskId: string;
beforeAll(async () => {
  b = await testBroker();
  const agent = await b.registerAgent();
  const task = await agent.openTask();
  taskToken = task.body.access_token;
  taskId = task.body.task_id;
});

const ENDPOINTS: [string, string][] = [
  ['POST', '/token'],
  ['POST', '/introspect'],
  ['POST', '/bc-authorize'],
  ['POST', '/v1/signals'],
  ['POST', '/v1/revocations'],
  ['POST', '/v1/receivers'],
  ['POST', '/v1/agents/agt_x/release'],
  ['GET', '/v1/events'],
  ['POST', '/internal/approval'],
  ['POST', '/revoke'],
  ['POST', '/v1/agents'],
  ['POST', '/v1/resources'],
  ['GET', '/v1/tasks/TASK'],
  ['POST', '/v1/tasks/TASK/complete'],
  ['POST', '/v1/tasks/TASK/revoke'],
  ['GET', '/v1/audit'],
  ['GET', '/v1/audit/verify'],
  ['GET', '/.well-known/oauth-authorization-server'],
  ['GET', '/.well-known/jwks.json'],
];

const grantTypes = fc.constantFrom('client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:openid:params:grant-type:ciba', 'password', '', 'x'.repeat(300));
const jsonish = fc.oneof(fc.json(), fc.constant('[{"type":"stint_task"}]'), fc.constant('[{"type":"stint_capability","actions":[1]}]'), fc.constant('null'), fc.string());
const tokenish = fc.oneof(fc.string(), fc.constant('a.b.c'), fc.constant('eyJhbGciOiJub25lIn0.e30.'), fc.constantFrom('TASK_TOKEN'));
const formBody = fc.dictionary(
  fc.constantFrom('grant_type', 'client_assertion', 'client_assertion_type', 'client_id', 'authorization_details', 'scope', 'resource', 'subject_token', 'subject_token_type', 'token', 'token_type_hint', 'auth_req_id', 'junk'),
  fc.oneof(grantTypes, jsonish, tokenish, fc.constant('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')),
);
const body = fc.oneof(
  formBody.map((d) => ({ type: 'application/x-www-form-urlencoded', text: new URLSearchParams(d).toString() })),
  fc.json().map((j) => ({ type: 'application/json', text: j })),
  fc.anything().map((v) => ({ type: 'application/json', text: JSON.stringify({ name: v, owner: v, jwks: { keys: [v] }, templates: v, audience: v }) ?? 'null' })),
  fc.string().map((s) => ({ type: fc.sample(fc.constantFrom('text/plain', 'application/json', 'application/x-www-form-urlencoded', ''), 1)[0]!, text: s })),
);
const auth = fc.constantFrom(undefined, `Bearer ${ADMIN}`, 'Bearer nope', 'Basic !!!', 'Basic ' + btoa('rs_x:y'), 'DPoP TASK_TOKEN', 'DPoP x.y.z', '');
const dpop = fc.oneof(fc.constant(undefined), fc.string(), fc.constant('eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.AA'));

describe('malformed bodies at every endpoint', () => {
  it('never answer 5xx and never carry a token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, auth, dpop, async ([method, rawPath], payload, authorization, proof) => {
        const path = rawPath.replace('TASK', taskId);
        const headers: Record<string, string> = {};
        if (payload.type) headers['Content-Type'] = payload.type;
        if (authorization !== undefined) headers.Authorization = authorization.replace('TASK_TOKEN', taskToken);
        if (proof !== undefined) headers.DPoP = proof;
        const res = await b.request(path, {
          method,
          headers,
          body: method === 'GET' ? undefined : payload.text.replace('TASK_TOKEN', taskToken),
        });
        if (res.headers.get('Content-Type')?.startsWith('text/event-stream')) {
          await res.body?.cancel();
          return;
        }
        const text = await res.text();
        expect(res.status, `${method} ${path} → ${res.status} ${text}`).toBeLessThan(500);
        if (res.status >= 400 && text) {
          const parsed = JSON.parse(text);
          expect(typeof (parsed.error ?? parsed.type)).toBe('string');
        }
        expect(text).not.toMatch(/"access_token"/);
      }),
      { numRuns: 400 },
    );
  });

  it('the unauthenticated token endpoint never issues for arbitrary forms', async () => {
    await fc.assert(
      fc.asyncProperty(formBody, async (form) => {
        const res = await b.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: 'x' }, body: new URLSearchParams(form) });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});


describe('malformed input at the approval service', () => {
  it('never answers 5xx', async () => {
    const { testStack, APPROVALS, APPROVAL_ADMIN } = await import('./helpers/stack.js');
    const s = await testStack();
    const routes: [string, string][] = [
      ['POST', '/v1/approvers'],
      ['GET', '/v1/approvals'],
      ['GET', '/v1/approvals/areq_x'],
      ['POST', '/v1/approvals/areq_x/decision'],
      ['POST', '/internal/broker'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, fc.constantFrom(undefined, `Bearer ${APPROVAL_ADMIN}`, 'Bearer x.y.z', 'DPoP abc', 'Basic Og=='), async ([method, path], payload, authorization) => {
        const headers: Record<string, string> = { 'Content-Type': payload.type };
        if (authorization) headers.Authorization = authorization;
        const res = await s.approvals.app.request(`${APPROVALS}${path}${method === 'GET' ? '?status=' + encodeURIComponent(payload.text.slice(0, 10)) : ''}`, { method, headers, body: method === 'GET' ? undefined : payload.text });
        expect(res.status, `${method} ${path} → ${res.status} ${await res.clone().text()}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});
