import { beforeEach, describe, expect, it } from 'vitest';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';
import { softPasskey, type SoftPasskey } from './helpers/passkey.js';

// An approver's keys are changed only with a fresh assertion of one of that approver's live
// passkeys: the console's session cookie alone adds nothing and retires nothing.
const ORIGIN = 'http://localhost:18788';
type Stack = Awaited<ReturnType<typeof testStack>>;
let s: Stack;
beforeEach(async () => {
  s = await testStack({ origin: ORIGIN });
});

const req = (path: string, init: RequestInit = {}) => s.approvals.app.request(`${APPROVALS}${path}`, init);
const post = async (path: string, body: unknown, cookie?: string) => {
  const res = await req(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ORIGIN, ...(cookie ? { Cookie: cookie } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as any, headers: res.headers };
};
async function approver(name: string) {
  const res = await req('/v1/approvers', { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name, groups: ['sre'] }) });
  const { approver_id } = (await res.json()) as any;
  return softPasskey(s.approvals.core, approver_id);
}
/** Signs in with the passkey; the session cookie as a browser would send it back. */
async function signIn(pk: SoftPasskey) {
  const options = await post('/console/signin/options', {});
  const verified = await post('/console/signin/verify', { response: pk.assert(options.body, ORIGIN) });
  expect(verified.status).toBe(200);
  return verified.headers.get('Set-Cookie')!.split(';')[0]!;
}
const audit = async (type: string) => (await s.approvals.core.store.audit.list(0, 1000)).filter((r) => r.type === type);
const liveKeys = async (id: string) => (await s.approvals.core.approvals.keys.list(id)).map((k) => k.kid);

describe('adding a passkey from the console', () => {
  it('the session cookie alone mints no enrolment link (400 / 401), and nothing is recorded', async () => {
    const bob = await approver('bob');
    const cookie = await signIn(bob);
    const bare = await post('/console/keys/new', {}, cookie);
    expect(bare.status).toBe(400);
    expect(bare.body.error).toBe('invalid_request');
    const forged = await post('/console/keys/new', { response: bob.assert({ challenge: 'bm90LWhhbmRlZC1vdXQ' }, ORIGIN) }, cookie);
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('unauthorized');
    // The old form post, as a stolen cookie would send it.
    const form = await req('/console/keys/new', { method: 'POST', headers: { Origin: ORIGIN, Cookie: cookie } });
    expect(form.status).toBe(415); // a JSON body with a passkey's assertion, or nothing
    expect(await audit('approver.enrolment_created')).toHaveLength(0);
  });

  it('with a fresh assertion of the approver’s own passkey: a one-time link, recorded with the key that confirmed it; the assertion works once', async () => {
    const bob = await approver('bob');
    const cookie = await signIn(bob);
    const options = await post('/console/keys/options', { op: 'add' }, cookie);
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [{ id: bob.kid }] });
    const response = bob.assert(options.body, ORIGIN);
    const added = await post('/console/keys/new', { response }, cookie);
    expect(added.status).toBe(200);
    expect(added.body.next).toMatch(/^\/enrol\/[A-Za-z0-9_-]{40,}$/);
    expect((await req(added.body.next)).status).toBe(200);
    const [record] = await audit('approver.enrolment_created');
    expect(record).toMatchObject({ actor: bob.approverId, data: { approver: bob.approverId, step_up_kid: bob.kid } });
    const replay = await post('/console/keys/new', { response }, cookie);
    expect(replay.status).toBe(401);
    expect(await audit('approver.enrolment_created')).toHaveLength(1);
  });

  it('another approver’s passkey does not confirm it, even from the right session (401)', async () => {
    const bob = await approver('bob');
    const mallory = await approver('mallory');
    const cookie = await signIn(bob);
    const options = await post('/console/keys/options', { op: 'add' }, cookie);
    const res = await post('/console/keys/new', { response: mallory.assert(options.body, ORIGIN) }, cookie);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthorized');
    expect(await audit('approver.enrolment_created')).toHaveLength(0);
  });

  it('without a session: 401, whatever the assertion', async () => {
    const bob = await approver('bob');
    expect((await post('/console/keys/options', { op: 'add' })).status).toBe(401);
    expect((await post('/console/keys/new', { response: bob.assert({ challenge: 'eA' }, ORIGIN) })).status).toBe(401);
  });
});

describe('retiring a key from the console', () => {
  it('needs a confirmation for that very key: one for adding, or for another key, is refused (401) and the key stays', async () => {
    const bob = await approver('bob');
    const spare = await softPasskey(s.approvals.core, bob.approverId);
    const cookie = await signIn(bob);
    const retire = (kid: string, response: unknown) => post(`/console/keys/${encodeURIComponent(kid)}/retire`, { response }, cookie);

    expect((await retire(bob.kid, undefined)).status).toBe(400);
    const forAdd = await post('/console/keys/options', { op: 'add' }, cookie);
    expect((await retire(bob.kid, bob.assert(forAdd.body, ORIGIN))).status).toBe(401);
    const forSpare = await post('/console/keys/options', { op: 'retire', kid: spare.kid }, cookie);
    expect((await retire(bob.kid, bob.assert(forSpare.body, ORIGIN))).status).toBe(401);
    expect(await liveKeys(bob.approverId)).toEqual(expect.arrayContaining([bob.kid, spare.kid]));

    // Confirmed by the spare: the old key goes, and its session with it.
    const ok = await post('/console/keys/options', { op: 'retire', kid: bob.kid }, cookie);
    const done = await retire(bob.kid, spare.assert(ok.body, ORIGIN));
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ next: '/keys' });
    expect(await liveKeys(bob.approverId)).toEqual([spare.kid]);
    expect((await audit('approver.key_retired'))[0]).toMatchObject({ actor: bob.approverId, data: { kid: bob.kid } });
    expect((await post('/console/keys/options', { op: 'add' }, cookie)).status).toBe(401);
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/ on http://localhost; __Host- and Secure on https', async () => {
    const bob = await approver('bob');
    const options = await post('/console/signin/options', {});
    const res = await post('/console/signin/verify', { response: bob.assert(options.body, ORIGIN) });
    const attrs = (cookie: string) => cookie.split(';').map((p) => p.trim().toLowerCase());
    const plain = res.headers.get('Set-Cookie')!;
    expect(plain.startsWith('stint_console=')).toBe(true);
    expect(attrs(plain)).toEqual(expect.arrayContaining(['path=/', 'httponly', 'samesite=strict']));

    const https = await testStack({ origin: 'https://approvals.example' });
    const id = ((await (await https.approvals.app.request(`${APPROVALS}/v1/approvers`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bob', groups: ['sre'] }) })).json()) as any).approver_id;
    const pk = await softPasskey(https.approvals.core, id);
    const call = (path: string, body: unknown) =>
      https.approvals.app.request(`${APPROVALS}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://approvals.example' }, body: JSON.stringify(body) });
    const o = (await (await call('/console/signin/options', {})).json()) as any;
    const secure = (await call('/console/signin/verify', { response: pk.assert(o, 'https://approvals.example') })).headers.get('Set-Cookie')!;
    expect(secure.startsWith('__Host-stint_console=')).toBe(true);
    expect(attrs(secure)).toEqual(expect.arrayContaining(['path=/', 'httponly', 'samesite=strict', 'secure']));
    expect(attrs(secure).some((a) => a.startsWith('domain='))).toBe(false);
  });
});
