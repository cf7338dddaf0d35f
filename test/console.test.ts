import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../src/core/encoding.js';
import { NOTICE_TYP } from '../src/core/approvals/notify.js';
import { decisionChallenge } from '../src/core/approvals/passkeys.js';
import { safeNext } from '../src/console/next.js';
import { Visible, visibleText } from '../src/http/approval/console/visible.js';
import { readFileSync } from 'node:fs';
import { bundleConsole, GENERATED, render } from '../scripts/bundle-console.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';

// The console's defences that need no browser (the browser suite covers the ceremonies).
const ORIGIN = 'http://localhost:18788';
type Stack = Awaited<ReturnType<typeof testStack>>;
let s: Stack;
const hooks: { url: string; body: string; signature: string | null }[] = [];
beforeEach(async () => {
  hooks.length = 0;
  s = await testStack({
    origin: ORIGIN,
    webhookFetch: (async (url: string, init?: RequestInit) => {
      hooks.push({ url, body: String(init?.body), signature: new Headers(init?.headers).get('Stint-Signature') });
      return new Response(null, { status: 204 });
    }) as typeof fetch,
  });
});
const req = (path: string, init: RequestInit = {}) => s.approvals.app.request(`${APPROVALS}${path}`, init);
const admin = (path: string, body?: unknown, method = 'POST') =>
  req(path, { method, headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
const consolePost = (path: string, body: unknown, origin: string | null = ORIGIN) =>
  req(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) }, body: JSON.stringify(body) });

describe('console pages', () => {
  it('carry a strict CSP and no inline script', async () => {
    const res = await req('/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('Content-Security-Policy')!;
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]) expect(csp).toContain(d);
    const html = await res.text();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script src="/console.js" defer="">']);
    expect(html).not.toMatch(/ style=| on[a-z]+=/);
    const js = await req('/console.js');
    expect(js.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('navigator.credentials');
  });

  it('the API keeps its JSON shape (no session, no CSP needed)', async () => {
    const res = await admin('/v1/approvers', { name: 'bob', groups: ['sre'] });
    expect(res.status).toBe(201);
  });
});

describe('state changes need the console’s Origin', () => {
  it('refuses none or another (403 forbidden), accepts its own', async () => {
    for (const origin of [null, 'https://evil.example', 'http://127.0.0.1:18788', 'null']) {
      const res = await consolePost('/console/signin/options', {}, origin);
      expect(res.status).toBe(403);
      expect(((await res.json()) as any).error).toBe('forbidden');
    }
    const ok = await consolePost('/console/signin/options', {});
    expect(ok.status).toBe(200);
    const options = (await ok.json()) as any;
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
  });

  it('decisions need a session (401) even from the right origin', async () => {
    const res = await consolePost('/console/requests/areq_x/decision/options', { decision: 'approve' });
    expect(res.status).toBe(401);
  });
});

describe('sign-in is rate-limited', () => {
  it('10 attempts a minute per source, then 429 with Retry-After; the window passes', async () => {
    for (let i = 0; i < 10; i++) expect((await consolePost('/console/signin/options', {})).status).toBe(200);
    const limited = await consolePost('/console/signin/options', {});
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as any).error).toBe('too_many_requests');
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    // A forged assertion counts too.
    expect((await consolePost('/console/signin/verify', { response: { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON: 'e30' } } })).status).toBe(429);
    s.clock.advance(61);
    expect((await consolePost('/console/signin/options', {})).status).toBe(200);
  });

  it('an assertion for a challenge never handed out is refused (401)', async () => {
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: 'bm9wZQ', origin: ORIGIN })).toString('base64url');
    const res = await consolePost('/console/signin/verify', { response: { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON, authenticatorData: '', signature: '' } } });
    expect(res.status).toBe(401);
  });
});

describe('after sign-in', () => {
  it('goes to `next` only when it is a path on this origin', () => {
    for (const next of ['/a/../..//evil.example', '//evil.example/', '/\\evil.example/', '/\\/evil.example', '/\t/evil.example', '/\n/evil.example', 'https://evil.example/', 'evil.example', '%2F%2Fevil.example', '', null, undefined]) {
      expect(safeNext(next, ORIGIN), String(next)).toBe('/');
    }
    expect(safeNext('/requests/areq_1?x=1#top', ORIGIN)).toBe('/requests/areq_1?x=1#top');
    expect(safeNext('/keys', ORIGIN)).toBe('/keys');
    expect(safeNext('/a/../..//evil.example', ORIGIN)).toBe('/');
  });
});

describe('enrolment links', () => {
  it('are the approval admin’s to create, on the console’s origin, and die at expiry', async () => {
    const { approver_id } = (await (await admin('/v1/approvers', { name: 'bob', groups: ['sre'] })).json()) as any;
    const denied = await req(`/v1/approvers/${approver_id}/enrolment`, { method: 'POST', headers: { Authorization: `Bearer ${s.ADMIN}` } });
    expect(denied.status).toBe(401);
    expect((await admin('/v1/approvers/apr_nope/enrolment')).status).toBe(404);
    const link = (await (await admin(`/v1/approvers/${approver_id}/enrolment`)).json()) as any;
    expect(link.url).toMatch(new RegExp(`^${ORIGIN}/enrol/[A-Za-z0-9_-]{40,}$`));
    expect(link.expires_in).toBe(86400);
    const path = new URL(link.url).pathname;
    const page = await req(path);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-action="enrol"');
    const opts = (await (await consolePost('/console/enrol/options', { token: path.split('/').pop() })).json()) as any;
    expect(opts.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(opts.rp).toEqual({ name: 'stint approvals', id: 'localhost' });
    s.clock.advance(86400);
    expect((await req(path)).status).toBe(404);
    expect((await consolePost('/console/enrol/options', { token: path.split('/').pop() })).status).toBe(401);
  });
});

describe('webhook notices', () => {
  it('announce a new request with a link and no secret, signed by the approval authority', async () => {
    expect((await admin('/v1/webhooks', { url: 'https://hooks.example/a' })).status).toBe(201);
    expect((await req('/v1/webhooks', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"url":"https://x.example"}' })).status).toBe(401);
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const task = (await agent.openTask('ops-maintenance', 'production')).body.access_token;
    const id = (await agent.exchange(task, { scope: 'volume.delete' })).body.auth_req_id;
    await expect.poll(() => hooks.length).toBe(1);
    const [h] = hooks;
    const body = JSON.parse(h!.body);
    expect(body).toMatchObject({ type: 'approval.requested', approval_id: id, url: `${ORIGIN}/requests/${id}`, environment: 'production', capability: 'volume.delete', quorum: 2 });
    expect(Object.keys(body).sort()).toEqual(['approval_id', 'capability', 'environment', 'expires_at', 'quorum', 'type', 'url']);
    const jwks = (await (await req('/.well-known/jwks.json')).json()) as any;
    const { payload, protectedHeader } = await jwtVerify(h!.signature!, createLocalJWKSet(jwks), { audience: 'https://hooks.example/a', issuer: APPROVALS, currentDate: new Date(s.clock.now()) });
    expect(protectedHeader.typ).toBe(NOTICE_TYP);
    expect(payload.body_sha256).toBe(sha256(h!.body));
    const list = (await (await req('/v1/webhooks', { headers: { Authorization: `Bearer ${APPROVAL_ADMIN}` } })).json()) as any;
    expect((await admin(`/v1/webhooks/${list.webhooks[0].id}`, undefined, 'DELETE')).status).toBe(204);
    expect((await admin(`/v1/webhooks/${list.webhooks[0].id}`, undefined, 'DELETE')).status).toBe(404);
  });
});

describe('hidden characters', () => {
  it('are shown as code points, never passed through', async () => {
    const hostile = 'a\u001b[31mb\u202Ec\u2066d\u200Be\u0085f\u2028g\uE000h\nok';
    expect(visibleText(hostile)).toBe('a\\u{001B}[31mb\\u{202E}c\\u{2066}d\\u{200B}e\\u{0085}f\\u{2028}g\\u{E000}h\\u{000A}ok');
    const html = String(await Visible({ text: '<b>x</b>\u202E' }).toString());
    expect(html).toBe('<bdi class="agent-text">&lt;b&gt;x&lt;/b&gt;<span class="ctl" title="a hidden character, shown as its code point">\\u{202E}</span></bdi>');
  });

  it('a decision challenge binds the request digest and the answer', () => {
    const a = decisionChallenge('areq_1', 'd1', 'approve', 'n');
    expect(decisionChallenge('areq_1', 'd1', 'deny', 'n')).not.toBe(a);
    expect(decisionChallenge('areq_1', 'd2', 'approve', 'n')).not.toBe(a);
    expect(decisionChallenge('areq_2', 'd1', 'approve', 'n')).not.toBe(a);
    expect(decisionChallenge('areq_1', 'd1', 'approve', 'n')).toBe(a);
  });
});

describe('/console.js', () => {
  it('is the bundle of src/console/client.ts as it stands (npm run console:bundle after a change)', async () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(render(await bundleConsole()));
  });
});
