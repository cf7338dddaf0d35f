import { describe, expect, it } from 'vitest';
import { claudeBash, guardStack } from './helpers.js';

const own = (s: { state: { task_token: string } }) => ({ HOME: '/nonexistent', STINT_TOKEN: s.state.task_token });
const AUTH = '-H "Authorization: DPoP $STINT_TOKEN"';

describe('an approval allows exactly the action it showed, once', () => {
  it('a scratch-volume delete chained with a backups delete: one approval per action, each showing its action; approving one runs neither', async () => {
    const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
    const cmd = `curl -X DELETE https://api.production.example/volumes/scratch-tmp ${AUTH} && curl -X DELETE https://api.production.example/backups/all ${AUTH}`;
    const first = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(first.answer.kind).toBe('block');
    const reason: string = first.out.hookSpecificOutput.permissionDecisionReason;
    const ids = [...new Set(reason.match(/areq_[A-Za-z0-9_-]+/g) ?? [])];
    expect(ids).toHaveLength(2);
    // each request shows its one action in full (the approver's binding message)
    const requests = (await s.task()).events.filter((e: any) => e.detail.type === 'tool_call.approval_requested');
    expect(requests.map((e: any) => e.detail.what).sort()).toEqual(['DELETE api.production.example/backups/all', 'DELETE api.production.example/volumes/scratch-tmp']);
    const scratch = requests.find((e: any) => /scratch/.test(e.detail.what)).detail.auth_req_id;
    const backups = requests.find((e: any) => /backups/.test(e.detail.what)).detail.auth_req_id;
    // approvers approve the scratch volume only: the chained call still does not run
    const bob = await s.approver('bob');
    const carol = await s.approver('carol');
    expect((await bob.decide(scratch, 'approve')).status).toBe(200);
    expect((await carol.decide(scratch, 'approve')).status).toBe(200);
    s.clock.advance(6);
    const chained = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(chained.answer.kind).toBe('block');
    expect(chained.out.hookSpecificOutput.permissionDecisionReason).toContain(backups);
    // the scratch delete alone runs, once
    const alone = `curl -X DELETE https://api.production.example/volumes/scratch-tmp ${AUTH}`;
    s.clock.advance(6);
    expect((await s.guard('claude-code', claudeBash(alone, s.cwd), { env: own(s) })).answer.kind).toBe('allow');
    s.clock.advance(6);
    expect((await s.guard('claude-code', claudeBash(alone, s.cwd), { env: own(s) })).answer.kind).toBe('block');
    // a path trick does not turn the approval into another action
    const trick = `curl -X DELETE "https://api.production.example/volumes/scratch-tmp/../../backups/all" ${AUTH}`;
    s.clock.advance(6);
    const t = await s.guard('claude-code', claudeBash(trick, s.cwd), { env: own(s) });
    expect(t.answer.kind).toBe('block');
    expect(t.out.hookSpecificOutput.permissionDecisionReason).toMatch(/backups\/all/);
    expect((await s.task()).status).toBe('active');
  });

  it('an approval is found by the action the broker derives from the call, not by the call: approving one action allows no other', async () => {
    const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
    const cmd = `curl -X DELETE https://api.production.example/volumes/vol_1 ${AUTH}`;
    const first = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    const id = /auth_req_id (areq_[A-Za-z0-9_-]+)/.exec(first.out.hookSpecificOutput.permissionDecisionReason)![1]!;
    for (const who of ['bob', 'carol']) expect((await (await s.approver(who)).decide(id, 'approve')).status).toBe(200);
    s.clock.advance(6);
    // another action: the approval of vol_1 does not cover it
    const other = await s.guard('claude-code', claudeBash(`curl -X DELETE https://api.production.example/backups/all ${AUTH}`, s.cwd), { env: own(s) });
    expect(other.answer.kind).toBe('block');
    expect(other.out.hookSpecificOutput.permissionDecisionReason).toMatch(/approval_required/);
  });
});
