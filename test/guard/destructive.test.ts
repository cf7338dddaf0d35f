import { describe, expect, it } from 'vitest';
import { claudeBash, codexBash, guardStack } from './helpers.js';

const own = (s: { state: { task_token: string } }) => ({ HOME: '/nonexistent', STINT_TOKEN: s.state.task_token });

describe('destructive actions on the tool-call path', () => {
  it('outside the ceiling → stop (destructive_outside_ceiling)', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash('curl -X DELETE https://api.staging.example/volumes/vol_1 -H "Authorization: DPoP $STINT_TOKEN"', s.cwd), { env: own(s) });
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/destructive_outside_ceiling/);
    expect((await s.task()).status).toBe('stopped');
  });

  it('another environment than the task’s → stop (environment_mismatch)', async () => {
    const s = await guardStack();
    const r = await s.guard('codex', codexBash('curl -X DELETE https://api.production.example/backups/b_1', s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/environment_mismatch/);
  });

  it('an environment that cannot be told counts as production: `railway volume delete` in a staging task stops it', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash('railway volume delete --volume vol_123 --yes', s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/environment_mismatch.*production/);
  });

  it('SQL: DROP TABLE through psql → db.drop, in no ceiling → stop', async () => {
    const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
    const r = await s.guard('claude-code', claudeBash(`psql -h db.production.example -U app -c 'DROP TABLE users'`, s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/db\.drop/);
  });

  it('SQL in a here-document, DELETE without WHERE, and TRUNCATE are seen too', async () => {
    for (const cmd of [`psql -h db.production.example <<'SQL'\nBEGIN;\nDELETE FROM users;\nCOMMIT;\nSQL`, `echo "TRUNCATE orders" | psql -h db.production.example`, `mysql -h db.production.example -e "DROP DATABASE shop"`]) {
      const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
      const r = await s.guard('claude-code', claudeBash(cmd, s.cwd));
      expect(r.answer.kind, cmd).toBe('stop');
    }
  });

  it('inside the ceiling → approval_required with auth_req_id; once approved, that exact call is allowed once', async () => {
    const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
    const cmd = 'curl -X DELETE https://api.production.example/volumes/vol_9 -H "Authorization: DPoP $STINT_TOKEN"';
    const first = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(first.answer.kind).toBe('block');
    expect(first.out.continue).toBeUndefined();
    const id = /auth_req_id (areq_[A-Za-z0-9_-]+)/.exec(first.out.hookSpecificOutput.permissionDecisionReason)?.[1];
    expect(id).toBeDefined();
    // still pending: the same call is blocked again, no second approval opened
    s.clock.advance(6);
    const pending = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(pending.out.hookSpecificOutput.permissionDecisionReason).toContain(id);
    // another call (another volume) is not covered by it
    const bob = await s.approver('bob');
    const carol = await s.approver('carol');
    expect((await bob.decide(id!, 'approve')).status).toBe(200);
    expect((await carol.decide(id!, 'approve')).status).toBe(200);
    s.clock.advance(6);
    const other = await s.guard('claude-code', claudeBash(cmd.replace('vol_9', 'vol_10'), s.cwd), { env: own(s) });
    expect(other.answer.kind).toBe('block');
    s.clock.advance(6);
    const approved = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(approved.answer.kind).toBe('allow');
    expect(approved.rendered.exitCode).toBe(0);
    s.clock.advance(6);
    const again = await s.guard('claude-code', claudeBash(cmd, s.cwd), { env: own(s) });
    expect(again.answer.kind).toBe('block');
    expect(again.out.hookSpecificOutput.permissionDecisionReason).toMatch(/approval_required/);
    expect((await s.task()).status).toBe('active');
  });

  it('under recent failures (tool_error signals) a destructive call is refused outright', async () => {
    const s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
    for (let i = 0; i < 2; i++) {
      const f = await s.guard('claude-code', { ...claudeBash('railway up', s.cwd, 'PostToolUseFailure'), error: 'Command failed with exit code 1: unauthorized' });
      expect(f.rendered.exitCode).toBe(0);
    }
    const t = await s.task();
    expect(t.events.filter((e: any) => e.detail.signal === 'tool_error')).toHaveLength(2);
    const r = await s.guard('claude-code', claudeBash('curl -X DELETE https://api.production.example/volumes/vol_9', s.cwd));
    expect(r.answer.kind).toBe('block');
    expect(r.out.hookSpecificOutput.permissionDecisionReason).toMatch(/high impact, low confidence/);
  });
});
