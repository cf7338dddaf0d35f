import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { decodeJwt } from 'jose';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalDigest } from '../src/core/approvals/open.js';
import type { ActionRequest } from '../src/core/approvals/types.js';
import type { AgentClient } from './helpers/broker.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';

// The approver console end to end in Debian's headless Chromium, driven by playwright-core, with a
// CDP virtual authenticator per approver (user verification on). Chromium comes from apt
// (.ci/run installs it in CI); never downloaded.
const CHROMIUM = process.env.STINT_CHROMIUM ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const present = existsSync(CHROMIUM);
if (!present && !CI) console.warn(`console.browser.test: skipped: ${CHROMIUM} is absent (apt-get install -y chromium; CI=true runs it and fails without it)`);

const CIBA = 'urn:openid:params:grant-type:ciba';
const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } as const;
type Stack = Awaited<ReturnType<typeof testStack>>;

describe.skipIf(!present && !CI)('the approver console in a real browser', () => {
  let s: Stack;
  let server: ServerType;
  let origin: string;
  let browser: Browser;
  let agent: AgentClient;
  let taskToken: string;
  const notices: { body: any; signature: string | null }[] = [];
  const approvers: Record<string, { id: string; context: BrowserContext; page: Page; cdp: CDPSession; authenticatorId: string }> = {};

  const admin = async (path: string, body: unknown) => {
    const res = await s.approvals.app.request(`${APPROVALS}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ask = async () => {
    const res = await agent.exchange(taskToken, { scope: 'volume.delete' });
    expect(res.body.error).toBe('approval_required');
    return res.body.auth_req_id as string;
  };

  /** An approver with a browser of their own and a virtual authenticator in it, enrolled. */
  async function enrolled(name: string) {
    const { body } = await admin('/v1/approvers', { name, groups: ['sre'] });
    const link = await admin(`/v1/approvers/${body.approver_id}/enrolment`, {});
    expect(link.status).toBe(201);
    expect(link.body.url.startsWith(`${origin}/enrol/`)).toBe(true);
    expect(link.body.expires_in).toBeGreaterThan(0);
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
    await page.goto(link.body.url);
    await page.click('#enrol');
    await page.waitForURL(`${origin}/`);
    await page.getByRole('heading', { name: 'Pending requests' }).waitFor();
    approvers[name] = { id: body.approver_id, context, page, cdp, authenticatorId };
    return approvers[name]!;
  }

  /** Clicks a decision button; resolves with the decision's status (and body) once the page has settled. */
  async function decide(page: Page, id: string, decision: 'approve' | 'deny') {
    await page.goto(`${origin}/requests/${id}`);
    const posted = page.waitForResponse((r) => r.url().endsWith(`/console/requests/${id}/decision`) && r.request().method() === 'POST');
    const reloaded = page.waitForEvent('load');
    await page.click(`#${decision}`);
    const res = await posted;
    const status = res.status();
    // A decision that counted reloads the page; a refusal stays and says why.
    const body = status === 200 ? (await reloaded, null) : ((await res.json()) as any);
    return { status, body };
  }

  beforeAll(async () => {
    let handler: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
    server = serve({ fetch: (req) => handler(req), hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    origin = `http://localhost:${(server.address() as AddressInfo).port}`;
    s = await testStack({
      origin,
      webhookFetch: (async (_url: string, init?: RequestInit) => {
        notices.push({ body: JSON.parse(String(init?.body)), signature: new Headers(init?.headers).get('Stint-Signature') });
        return new Response(null, { status: 204 });
      }) as typeof fetch,
    });
    handler = (req) => s.approvals.app.fetch(req);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives each launch a fresh --user-data-dir of its own.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    taskToken = (await agent.openTask('ops-maintenance', 'production')).body.access_token;
    expect((await admin('/v1/webhooks', { url: 'https://hooks.example/oncall' })).status).toBe(201);
    await enrolled('bob');
    await enrolled('carol');
    await enrolled('Alice'); // the agent's owner, "alice", under another case
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('serves a strict CSP; no inline script runs', async () => {
    const { page } = approvers.bob!;
    const res = await page.goto(`${origin}/`);
    const csp = res!.headers()['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    // Every script on the page is external; one injected inline script is blocked by the policy.
    expect(await page.$$eval('script', (els) => els.map((e) => (e as HTMLScriptElement).src !== '' && e.textContent === ''))).toEqual([true]);
    const violation = page.evaluate(() => new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true })));
    await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.__inlineRan = true';
      document.body.appendChild(el);
    });
    expect(await violation).toMatch(/^script-src/);
    expect(await page.evaluate(() => (window as any).__inlineRan)).toBeUndefined();
  });

  it('signs in with the passkey after signing out; the cookie is HttpOnly and SameSite=Strict', async () => {
    const { page, context } = approvers.carol!;
    await page.goto(`${origin}/`);
    await page.click('header button[type=submit]'); // sign out
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await context.cookies()).toEqual([]);
    await page.click('#signin');
    await page.getByRole('heading', { name: 'Pending requests' }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'stint_console', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('after sign-in goes only to a path on this origin (?next=//evil.example/ and its kin stay home)', async () => {
    const { page } = approvers.carol!;
    s.clock.advance(61); // a fresh sign-in window: this test signs in six times
    await page.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
    const cases: [string, string][] = [
      ['//evil.example/', '/'],
      ['/\\evil.example/', '/'],
      ['%2F%2Fevil.example%2F', '/'], // as an encoded query parameter
      ['/%09/evil.example', '/'],
      ['/a/../..//evil.example', '/'],
      ['/keys', '/keys'],
    ];
    for (const [next, lands] of cases) {
      await page.goto(`${origin}/`);
      if (await page.getByRole('heading', { name: 'Pending requests' }).isVisible()) {
        await page.click('header button[type=submit]');
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      }
      s.clock.advance(61); // a fresh sign-in window for each (10 ceremony calls a minute)
      const start = `${origin}/?next=${next.includes('%') ? next : encodeURIComponent(next)}`;
      await page.goto(start);
      const left = page.waitForURL((u) => u.href !== start);
      await page.click('#signin');
      await left;
      expect(page.url(), next).toBe(`${origin}${lands}`);
    }
    await page.unroute('**/*');
  }, 60_000);

  it('rotates a passkey from the console: add a new one, retire the old, sign in with the new; each change confirmed by a passkey', async () => {
    const carol = approvers.carol!;
    const { page, context } = carol;
    await page.goto(`${origin}/keys`);
    const before = await page.$$eval('#keys tbody code', (els) => els.map((e) => e.textContent));
    expect(before).toHaveLength(1);
    // Adding is confirmed by the passkey carol has (the old device), then the link opens.
    await page.click('#add-passkey');
    await page.waitForURL(/\/enrol\//);
    // A new device: the old authenticator goes, a fresh one comes (enrolment excludes credentials
    // already registered, so the old device could not enrol twice anyway).
    await carol.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: carol.authenticatorId });
    carol.authenticatorId = (await carol.cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR })).authenticatorId;
    await page.click('#enrol');
    await page.waitForURL(`${origin}/`);
    await page.goto(`${origin}/keys`);
    expect(await page.locator('#keys tbody tr').count()).toBe(2);
    // Retiring the old one is confirmed by the new one (the only one this browser holds now).
    // Once it is done the console goes to /keys itself (location.assign): wait for that
    // navigation rather than racing it with one of ours.
    const retired = page.waitForResponse((r) => /\/console\/keys\/.+\/retire$/.test(r.url()));
    const moved = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
    await page.locator('#keys tbody tr', { hasText: before[0]! }).locator('button').click();
    expect((await retired).status()).toBe(200);
    await moved;
    await page.waitForLoadState('load');
    expect(page.url()).toBe(`${origin}/keys`);
    expect(await page.$$eval('#keys tbody code', (els) => els.map((e) => e.textContent))).not.toContain(before[0]);
    expect(await page.locator('#keys tbody tr').count()).toBe(1);
    expect(await context.cookies()).toHaveLength(1);
    await page.click('header button[type=submit]');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.click('#signin');
    await page.getByRole('heading', { name: 'Pending requests' }).waitFor();
  }, 60_000);

  it('two approvers approve a production volume.delete (quorum 2) with passkeys; the agent gets its single-use grant', async () => {
    const id = await ask();
    // The on-call hook heard of it, with a link to the page and no secret.
    await expect.poll(() => notices.find((n) => n.body.approval_id === id)).toBeTruthy();
    const notice = notices.find((n) => n.body.approval_id === id)!;
    expect(notice.body).toMatchObject({ type: 'approval.requested', url: `${origin}/requests/${id}`, environment: 'production', capability: 'volume.delete', quorum: 2 });
    expect(notice.signature?.split('.')).toHaveLength(3);
    expect(JSON.stringify(notice.body)).not.toMatch(/digest|token|secret/i);

    // The pending list shows it, newest first.
    const bob = approvers.bob!.page;
    await bob.goto(`${origin}/`);
    expect(await bob.$$eval('#pending tbody tr', (rows) => rows.map((r) => r.getAttribute('data-approval')))).toContain(id);

    // The page shows the request in full.
    await bob.goto(`${origin}/requests/${id}`);
    expect(await bob.textContent('#capability')).toBe('volume.delete');
    expect(await bob.textContent('#environment')).toBe('production');
    expect(await bob.textContent('#resource')).toBe('https://api.production.example/volumes');
    expect(await bob.textContent('#owner')).toBe('alice');
    expect(await bob.textContent('#template')).toBe('ops-maintenance');
    expect(await bob.textContent('#approvals')).toContain('0 of 2');
    expect(await bob.locator('#trajectory li').count()).toBeGreaterThan(0);

    const first = await decide(bob, id, 'approve');
    expect(first.status).toBe(200);
    expect(await bob.textContent('#approvals')).toMatch(/^1 of 2/);
    expect((await agent.token({ grant_type: CIBA, auth_req_id: id })).body.error).toBe('authorization_pending');

    const second = await decide(approvers.carol!.page, id, 'approve');
    expect(second.status).toBe(200);
    expect(await approvers.carol!.page.textContent('#state')).toMatch(/^approved/);

    s.clock.advance(10);
    const grant = await agent.token({ grant_type: CIBA, auth_req_id: id });
    expect(grant.status).toBe(200);
    const claims = decodeJwt(grant.body.access_token);
    expect(claims).toMatchObject({ sub: agent.clientId, aud: 'https://api.production.example/volumes', env: 'production', scope: 'volume.delete', token_use: 'grant' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    s.clock.advance(10);
    const again = await agent.token({ grant_type: CIBA, auth_req_id: id });
    expect(again.body.error).toBe('invalid_grant');
  }, 120_000);

  it('refuses the owner’s approval, whatever the case of their name', async () => {
    const id = await ask();
    const { page } = approvers.Alice!;
    await page.goto(`${origin}/requests/${id}`);
    expect(await page.textContent('.notice')).toContain('You own the requesting agent');
    const res = await decide(page, id, 'approve');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('owns the requesting agent'));
    await page.goto(`${origin}/requests/${id}`);
    expect(await page.textContent('#approvals')).toContain('0 of 2');
  }, 60_000);

  it('refuses a replayed assertion (409), from the same session or without one (401)', async () => {
    const id = await ask();
    const { page } = approvers.bob!;
    let captured = '';
    await page.route(`**/console/requests/${id}/decision`, async (route) => {
      captured = route.request().postData() ?? '';
      await route.continue();
    });
    expect((await decide(page, id, 'approve')).status).toBe(200);
    expect(captured).toContain('"response"');
    const replay = await page.evaluate(
      async ({ id, body }) => {
        const res = await fetch(`/console/requests/${id}/decision`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        return { status: res.status, body: await res.json() };
      },
      { id, body: captured },
    );
    expect(replay.status).toBe(409);
    expect(replay.body.error).toBe('conflict');
    // The same assertion as a "deny" by the same approver: bound to another decision, refused.
    const flipped = JSON.parse(captured);
    flipped.decision = 'deny';
    const asDeny = await page.evaluate(
      async ({ id, body }) => (await fetch(`/console/requests/${id}/decision`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status,
      { id, body: JSON.stringify(flipped) },
    );
    expect(asDeny).toBe(409);
    // Outside the browser: no session cookie, or a foreign Origin.
    const bare = await fetch(`${origin}/console/requests/${id}/decision`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: captured });
    expect(bare.status).toBe(401);
    const foreign = await fetch(`${origin}/console/requests/${id}/decision`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' }, body: captured });
    expect(foreign.status).toBe(403);
    await page.goto(`${origin}/requests/${id}`);
    expect(await page.textContent('#approvals')).toContain('1 of 2');
  }, 60_000);

  it('shows a purpose with escape and bidi characters inert, and takes the screenshot for the README', async () => {
    // A request carrying hostile text, put straight into the approval store: the console must
    // be safe even if such text got past input validation upstream.
    const purpose = 'rotate creds\u001b[2K\u001b[1G db.read \u202Eeteled.emulov\u202C <script>window.__xss=1</script>\u200B';
    const core = s.approvals.core;
    const now = core.clock.now();
    const request: ActionRequest = {
      task_id: 'tsk_hostile',
      template: 'ops-maintenance',
      agent: agent.clientId,
      agent_name: 'ops-bot',
      owner: 'alice',
      environment: 'production',
      capability: 'volume.delete',
      resource: 'https://api.production.example/volumes',
      purpose,
      jkt: 'jkt',
      trajectory: [
        { at: new Date(now - 120_000).toISOString(), kind: 'grant', detail: { type: 'capability.issued', capability: 'db.read' } },
        { at: new Date(now - 60_000).toISOString(), kind: 'refusal', detail: { type: 'capability.refused', capability: 'backup.delete', why: 'outside the ceiling' } },
        { at: new Date(now - 30_000).toISOString(), kind: 'signal', detail: { type: 'tool_error', detail: 'volume busy\u001b[31m' } },
      ],
      binding_message: 'VOL-7731',
    };
    const id = 'areq_hostile';
    await core.approvals.requests.create({ id, clientId: agent.clientId, request, digest: await approvalDigest(id, request), quorum: 2, groups: ['sre'], allowOwner: false, status: 'pending', statusReason: null, interval: 5, lastPollAt: null, createdAt: now, expiresAt: now + 600_000 });
    const { page } = approvers.carol!;
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${origin}/requests/${id}`);
    const shown = await page.textContent('#purpose');
    expect(shown).toBe('rotate creds\\u{001B}[2K\\u{001B}[1G db.read \\u{202E}eteled.emulov\\u{202C} <script>window.__xss=1</script>\\u{200B}');
    expect(shown).not.toMatch(/[\u001b\u202e\u202c\u200b]/);
    expect(await page.locator('#purpose .ctl').count()).toBe(5);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    expect(await page.locator('#purpose script').count()).toBe(0);
    expect(await page.locator('#trajectory li.bad').count()).toBe(2);
    // The README's picture: rewritten only when asked (STINT_UPDATE_SCREENSHOT=1), so test runs leave the tree clean.
    const shot = await page.screenshot({ fullPage: true, ...(process.env.STINT_UPDATE_SCREENSHOT === '1' ? { path: new URL('../docs/console-request.png', import.meta.url).pathname } : {}) });
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);
});
