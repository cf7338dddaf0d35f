import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { register } from '../src/cli/commands/approvers.js';
import { APPROVAL_ADMIN, testStack } from './helpers/stack.js';

// `stint approvers`: the approval admin sets up passkey approvers, enrolment links and webhooks
// without hand-written curl. In-process against the approval service on a real socket.
let url: string;
let close: () => Promise<void>;
const lines: string[] = [];
beforeAll(async () => {
  const s = await testStack({ origin: 'http://localhost:18788' });
  const server = serve({ fetch: s.approvals.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
  process.env.STINT_APPROVAL_ADMIN_TOKEN = APPROVAL_ADMIN;
});
afterAll(async () => {
  vi.restoreAllMocks();
  delete process.env.STINT_APPROVAL_ADMIN_TOKEN;
  await close();
});
const stint = async (...args: string[]) => {
  lines.length = 0;
  const program = new Command('stint').exitOverride();
  register(program);
  await program.parseAsync(['node', 'stint', ...args, '--url', url]);
  return lines.join('\n');
};

describe('stint approvers', () => {
  it('add (a passkey approver), enrol, list', async () => {
    const added = JSON.parse(await stint('approvers', 'add', '--name', 'bob', '--groups', 'sre,dba', '--json'));
    expect(added).toMatchObject({ approver_id: expect.stringMatching(/^apr_/), name: 'bob', groups: ['sre', 'dba'] });
    expect(await stint('approvers', 'add', '--name', 'carol', '--groups', 'sre')).toMatch(/^registered carol as apr_\S+; send them a passkey enrolment link: stint approvers enrol apr_/);
    const link = JSON.parse(await stint('approvers', 'enrol', added.approver_id, '--json'));
    expect(link).toEqual({ url: expect.stringMatching(/^http:\/\/localhost:18788\/enrol\/[A-Za-z0-9_-]{40,}$/), expires_in: 86400 });
    expect(await stint('approvers', 'enrol', added.approver_id)).toMatch(/^http:\/\/localhost:18788\/enrol\/\S+\n\(valid 24 h, once\)$/);
    const list = await stint('approvers', 'list');
    expect(list).toContain(`${added.approver_id}  bob  [sre,dba]  no key: enrol a passkey`);
    await expect(stint('approvers', 'enrol', 'apr_nope')).rejects.toThrow(/^404 /);
  });

  it('webhooks add, list, remove; a private address is refused', async () => {
    const hook = JSON.parse(await stint('approvers', 'webhooks', 'add', 'https://hooks.example/oncall', '--json'));
    expect(hook).toMatchObject({ id: expect.stringMatching(/^wh_/), url: 'https://hooks.example/oncall' });
    expect(await stint('approvers', 'webhooks', 'list')).toBe(`${hook.id}  https://hooks.example/oncall`);
    await expect(stint('approvers', 'webhooks', 'add', 'http://169.254.169.254/latest')).rejects.toThrow(/^400 .*private network/);
    expect(await stint('approvers', 'webhooks', 'remove', hook.id)).toBe(`removed ${hook.id}`);
    expect(await stint('approvers', 'webhooks', 'list')).toBe('no webhooks');
  });

  it('needs the approval admin token', async () => {
    delete process.env.STINT_APPROVAL_ADMIN_TOKEN;
    await expect(stint('approvers', 'list')).rejects.toThrow(/STINT_APPROVAL_ADMIN_TOKEN/);
    process.env.STINT_APPROVAL_ADMIN_TOKEN = APPROVAL_ADMIN;
  });
});
