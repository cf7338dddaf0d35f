import { describe, expect, it } from 'vitest';
import { eventLine } from '../src/http/approval/console/pages.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';
import { softPasskey } from './helpers/passkey.js';

// What an approver sees, as a new approver would use it: the pending list links what they
// recognise (the action, the purpose), the agent's history reads as lines (not JSON), and the
// request says who has already approved.
const ORIGIN = 'http://localhost:18788';

describe('the console’s pages', () => {
  it('link the action and purpose, show who approved, and render the history readably', async () => {
    const s = await testStack({ origin: ORIGIN });
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const task = (await agent.openTask('ops-maintenance', 'production')).body.access_token;
    expect((await agent.exchange(task, { scope: 'db.read' })).status).toBe(200);
    const id = (await agent.exchange(task, { scope: 'volume.delete' })).body.auth_req_id as string;
    const carol = await s.approver('carol');
    expect((await carol.decide(id, 'approve')).status).toBe(200);

    const res = await s.approvals.app.request(`${APPROVALS}/v1/approvers`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bob', groups: ['sre'] }) });
    const bob = await softPasskey(s.approvals.core, ((await res.json()) as any).approver_id);
    const post = (path: string, body: unknown) => s.approvals.app.request(`${APPROVALS}${path}`, { method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const options = (await (await post('/console/signin/options', {})).json()) as any;
    const cookie = (await post('/console/signin/verify', { response: bob.assert(options, ORIGIN) })).headers.get('Set-Cookie')!.split(';')[0]!;
    const get = async (path: string) => (await s.approvals.app.request(`${APPROVALS}${path}`, { headers: { Cookie: cookie } })).text();

    const list = await get('/');
    const href = `href="/requests/${id}"`;
    const row = list.slice(list.indexOf(`data-approval="${id}"`));
    expect(row.slice(0, row.indexOf('</tr>')).split(href).length - 1).toBe(3); // the time, the action, the purpose
    expect(row).toMatch(new RegExp(`<a href="/requests/${id}" class="action"><bdi[^>]*>volume.delete</bdi></a>`));

    const page = await get(`/requests/${id}`);
    expect(page).toMatch(/id="approved-by"><bdi[^>]*>carol<\/bdi><\/span>/);
    expect(page).toContain('1 of 2');
    const trajectory = page.slice(page.indexOf('id="trajectory"'), page.indexOf('</ol>'));
    expect(trajectory).not.toMatch(/\{&quot;|\{"/); // no JSON
    expect(trajectory).toMatch(/<strong class="what"><bdi[^>]*>capability issued<\/bdi><\/strong>/);
    expect(trajectory).toMatch(/capabilities: db.read/);
  });

  it('an event line: its type in words, then each detail as "name: value"', () => {
    expect(eventLine({ at: '', kind: 'refusal', detail: { type: 'capability.refused', capability: 'backup.delete', why: 'outside the ceiling', risks: ['read', 'write'], n: 2 } })).toEqual({
      what: 'capability refused',
      details: ['capability: backup.delete', 'why: outside the ceiling', 'risks: read, write', 'n: 2'],
    });
    expect(eventLine({ at: '', kind: 'signal', detail: {} })).toEqual({ what: 'signal', details: [] });
  });
});
