/** @jsxImportSource hono/jsx */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { isOwner, view } from '../../../core/approvals/decide.js';
import {
  addPasskeyConfirmed,
  decideWithPasskey,
  decisionOptions,
  enrol,
  enrolmentApprover,
  enrolmentOptions,
  keyChangeOptions,
  relyingParty,
  retireKeyConfirmed,
  signIn,
  signInOptions,
} from '../../../core/approvals/passkeys.js';
import { readJson } from '../../form.js';
import { parseWith } from '../../schemas.js';
import { consoleOrigin, type ApprovalEnv } from '../env.js';
import { CONSOLE_JS } from './client.generated.js';
import { Enrol, Keys, Message, Pending, RequestPage, SignIn } from './pages.js';
import { consoleHeaders, endSession, rateLimit, readSession, requireSession, sameOrigin, startSession } from './security.js';
import { CONSOLE_CSS } from './style.js';

type C = Context<ApprovalEnv>;
/** A page: the doctype, then the rendered tree (standards mode). */
const page = async (c: C, node: Child, status: 200 | 404 = 200) => c.html(`<!DOCTYPE html>${await (node as { toString(): string | Promise<string> }).toString()}`, status);
const rp = (c: C) => relyingParty(consoleOrigin(c.get('deps')));

// WebAuthn responses are checked by @simplewebauthn/server; here only their outer shape.
const credential = z.looseObject({ id: z.string().min(1).max(1024), rawId: z.string().max(1024), type: z.literal('public-key'), response: z.looseObject({ clientDataJSON: z.string().max(8192) }) });
const tokenBody = z.strictObject({ token: z.string().min(1).max(200) });
const enrolBody = z.strictObject({ token: z.string().min(1).max(200), response: credential });
const signInBody = z.strictObject({ response: credential });
const decisionKind = z.enum(['approve', 'deny']);
const decisionOptionsBody = z.strictObject({ decision: decisionKind });
const decisionBody = z.strictObject({ decision: decisionKind, response: credential });
const keyChangeBody = z.union([z.strictObject({ op: z.literal('add') }), z.strictObject({ op: z.literal('retire'), kid: z.string().min(1).max(1024) })]);
const confirmedBody = z.strictObject({ response: credential });
const body = async <T,>(c: C, schema: z.ZodType<T>) => parseWith(schema, await readJson(c), 'invalid_request', '');

/**
 * The approver console, served by the approval service (never the broker): server-rendered
 * pages, one external script for WebAuthn, a strict CSP, session cookies (HttpOnly,
 * SameSite=Strict, Secure on https), an Origin check on every state change.
 */
export const consoleRoutes = new Hono<ApprovalEnv>();
const PAGES = ['/', '/enrol/:token', '/requests/:id', '/keys', '/console.js', '/console.css'] as const;
for (const p of PAGES) consoleRoutes.use(p, consoleHeaders, readSession);
consoleRoutes.use('/console/*', consoleHeaders, sameOrigin, readSession);

consoleRoutes.get('/console.js', (c) => c.body(CONSOLE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
consoleRoutes.get('/console.css', (c) => c.body(CONSOLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

consoleRoutes.get('/', async (c) => {
  const approver = c.get('approver');
  if (!approver) return page(c, <SignIn />);
  const { core } = c.get('deps');
  const rows = await core.approvals.requests.list('pending', 200);
  const views = (await Promise.all(rows.map((r) => view(core, r.id)))).filter((v) => v.status === 'pending');
  return page(c, <Pending approver={approver} requests={views} now={core.clock.now()} />);
});

consoleRoutes.get('/enrol/:token', async (c) => {
  const a = await enrolmentApprover(c.get('deps').core, c.req.param('token'));
  if (!a) return page(c, <Message title="Link not valid" text="This enrolment link is used up, expired or unknown. Ask the approval admin for a new one." />, 404);
  return page(c, <Enrol name={a.name} token={c.req.param('token')} />);
});

consoleRoutes.get('/requests/:id', async (c) => {
  const approver = c.get('approver');
  if (!approver) return c.redirect(`/?next=${encodeURIComponent(`/requests/${c.req.param('id')}`)}`);
  const { core } = c.get('deps');
  const r = await core.approvals.requests.get(c.req.param('id'));
  if (!r) return page(c, <Message title="No such request" text="There is no approval request with this id." approver={approver} />, 404);
  return page(c, <RequestPage approver={approver} r={await view(core, r.id)} isOwner={isOwner(approver, r)} now={core.clock.now()} />);
});

consoleRoutes.get('/keys', async (c) => {
  const approver = c.get('approver');
  if (!approver) return c.redirect('/?next=/keys');
  return page(c, <Keys approver={approver} keys={await c.get('deps').core.approvals.keys.list(approver.id)} />);
});

// ——— Ceremonies (JSON, called by /console.js) ———

const signInLimit = rateLimit('sign-in', 10, 60);
const enrolLimit = rateLimit('enrolment', 10, 60);

consoleRoutes.post('/console/enrol/options', enrolLimit, async (c) => {
  const { token } = await body(c, tokenBody);
  return c.json(await enrolmentOptions(c.get('deps').core, rp(c), token));
});

consoleRoutes.post('/console/enrol/verify', enrolLimit, async (c) => {
  const { token, response } = await body(c, enrolBody);
  const { approver, kid } = await enrol(c.get('deps').core, rp(c), token, response as never);
  await startSession(c, approver.id, kid);
  return c.json({ approver_id: approver.id, name: approver.name });
});

consoleRoutes.post('/console/signin/options', signInLimit, async (c) => c.json(await signInOptions(c.get('deps').core, rp(c))));

consoleRoutes.post('/console/signin/verify', signInLimit, async (c) => {
  const { response } = await body(c, signInBody);
  const approver = await signIn(c.get('deps').core, rp(c), response as never);
  await startSession(c, approver.id, response.id);
  return c.json({ approver_id: approver.id, name: approver.name });
});

consoleRoutes.post('/console/signout', async (c) => {
  await endSession(c);
  return c.redirect('/', 303);
});

consoleRoutes.post('/console/requests/:id/decision/options', requireSession, async (c) => {
  const { decision } = await body(c, decisionOptionsBody);
  return c.json(await decisionOptions(c.get('deps').core, rp(c), c.get('approver'), c.req.param('id'), decision));
});

consoleRoutes.post('/console/requests/:id/decision', requireSession, async (c) => {
  const { decision, response } = await body(c, decisionBody);
  return c.json(await decideWithPasskey(c.get('deps').core, rp(c), c.get('approver'), c.req.param('id'), decision, response as never));
});

// ——— The approver's own keys: add a passkey (then retire the old one: rotation), retire ———
// Each change is confirmed by a fresh assertion of one of the approver's live passkeys: the
// session cookie alone changes nothing (see keyChangeOptions).

const keysLimit = rateLimit('key change', 10, 60);

consoleRoutes.post('/console/keys/options', requireSession, keysLimit, async (c) => {
  const change = await body(c, keyChangeBody);
  return c.json(await keyChangeOptions(c.get('deps').core, rp(c), c.get('approver'), change));
});

consoleRoutes.post('/console/keys/new', requireSession, keysLimit, async (c) => {
  const { response } = await body(c, confirmedBody);
  const { url } = await addPasskeyConfirmed(c.get('deps').core, rp(c), c.get('approver'), response as never);
  return c.json({ next: new URL(url).pathname });
});

consoleRoutes.post('/console/keys/:kid/retire', requireSession, keysLimit, async (c) => {
  const { response } = await body(c, confirmedBody);
  await retireKeyConfirmed(c.get('deps').core, rp(c), c.get('approver'), c.req.param('kid'), response as never);
  return c.json({ next: '/keys' });
});
