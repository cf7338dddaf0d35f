import { describe, expect, it } from 'vitest';
import { isPrivateHost } from '../src/core/private-address.js';
import { addWebhook, notifyRequested } from '../src/core/approvals/notify.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';

// Where the broker and the approval service may send requests of their own: SET receivers and
// approval-notice webhooks. Neither may be pointed inside the machine or its network.
const INSIDE = [
  'http://localhost./x',
  'http://LOCALHOST../x',
  'http://metadata.google.internal./computeMetadata/v1/',
  'http://printer.local./',
  'http://a.localhost./',
  'http://127.0.0.1./',
  'http://127.0.0.1:9/x',
  'http://169.254.169.254/latest/meta-data/',
  'http://10.1.2.3/',
  'http://[::1]/',
  'http://[fd00::1]/',
];

describe('private hosts', () => {
  it('a final dot does not make a private name public', () => {
    for (const url of INSIDE) expect(isPrivateHost(url), url).toBe(true);
    for (const url of ['https://hooks.example./a', 'https://8.8.8.8/', 'https://internal.example.com/']) expect(isPrivateHost(url), url).toBe(false);
  });
});

describe('approval-notice webhooks', () => {
  const posted: { url: string; init?: RequestInit }[] = [];
  const stack = (answer: (url: string) => Response = () => new Response(null, { status: 204 })) =>
    testStack({
      webhookFetch: (async (url: string, init?: RequestInit) => {
        posted.push({ url, init });
        return answer(url);
      }) as typeof fetch,
    });
  const admin = (s: Awaited<ReturnType<typeof stack>>, body: unknown) =>
    s.approvals.app.request(`${APPROVALS}/v1/webhooks`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('on this machine or a private network are refused (400 invalid_request), and nothing is stored', async () => {
    const s = await stack();
    for (const url of INSIDE) {
      const res = await admin(s, { url });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as any).error).toBe('invalid_request');
    }
    expect(await s.approvals.core.approvals.webhooks.list()).toEqual([]);
    expect((await admin(s, { url: 'https://hooks.example/oncall' })).status).toBe(201);
  });

  it('a private webhook stored anyway is not posted to; a redirect is not followed and is audited as a failure', async () => {
    posted.length = 0;
    const s = await stack((url) => (url.includes('redirecting') ? new Response(null, { status: 307, headers: { Location: 'http://169.254.169.254/latest/meta-data/' } }) : new Response(null, { status: 204 })));
    const core = s.approvals.core;
    // Stored by hand, as a database from before the check would hold it.
    await core.approvals.webhooks.add({ id: 'wh_old', url: 'http://169.254.169.254./latest', createdAt: core.clock.now() });
    await addWebhook(core, 'https://redirecting.example/hook');
    await expect(addWebhook(core, 'http://127.0.0.1:8080/')).rejects.toMatchObject({ code: 'invalid_request' });

    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const task = (await agent.openTask('ops-maintenance', 'production')).body.access_token;
    const id = (await agent.exchange(task, { scope: 'volume.delete' })).body.auth_req_id as string;
    await notifyRequested(core, 'http://localhost:8788', id, ((url: string, init?: RequestInit) => {
      posted.push({ url, init });
      return Promise.resolve(new Response(null, { status: 307, headers: { Location: 'http://169.254.169.254/' } }));
    }) as typeof fetch);

    expect(posted.map((p) => p.url)).not.toContain('http://169.254.169.254./latest');
    expect(posted.every((p) => p.init?.redirect === 'manual')).toBe(true);
    expect(posted.filter((p) => p.url === 'https://redirecting.example/hook').length).toBeGreaterThanOrEqual(1);
    const failed = (await core.store.audit.list(0, 1000)).filter((r) => r.type === 'approval.webhook_failed') as unknown as { data: { id: string; error: string } }[];
    expect(failed.some((r) => r.data.id === 'wh_old' && /private network/.test(r.data.error))).toBe(true);
    expect(failed.some((r) => r.data.error.includes('redirects are not followed'))).toBe(true);
  });
});
