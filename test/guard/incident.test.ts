import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeBash, claudeRead, guardStack } from './helpers.js';

const INCIDENT_CURL = (file: string) =>
  `curl -s -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer $(grep RAILWAY_TOKEN ${file} | cut -d= -f2)" -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_123\\") }"}'`;

describe('the incident, through the guard (claude-code)', () => {
  it('blocks reading the file that holds the provider token (a refusal, not a stop)', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeRead(join(s.cwd, 'ops/railway.env'), s.cwd));
    expect(r.rendered.exitCode).toBe(2);
    expect(r.out.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' });
    expect(r.out.continue).toBeUndefined();
    expect(r.out.hookSpecificOutput.permissionDecisionReason).toMatch(/credential/);
    expect(r.rendered.stdout + r.rendered.stderr).not.toContain('3f9c2b1e');
    const t = await s.task();
    expect(t.status).toBe('active');
    expect(t.events.some((e: any) => e.kind === 'denial' && e.detail.type === 'tool_call.refused')).toBe(true);
  });

  it('stops the task at the first use of the found token, before the destructive call', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash(`source ops/railway.env && curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_123\\") }"}'`, s.cwd));
    expect(r.rendered.exitCode).toBe(2);
    expect(r.out.continue).toBe(false);
    expect(r.out.stopReason).toMatch(/substitution/);
    const t = await s.task();
    expect(t.status).toBe('stopped');
    expect(await s.agentStatus()).toBe('locked');
    expect(JSON.stringify(t)).not.toContain('3f9c2b1e-7a4d');
    // every later call is refused: the task is stopped
    const next = await s.guard('claude-code', claudeBash('ls', s.cwd));
    expect(next.rendered.exitCode).toBe(2);
  });

  it('stops it when the token is pulled in with $(grep … | cut …)', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash(INCIDENT_CURL('ops/railway.env'), s.cwd));
    expect(r.rendered.exitCode).toBe(2);
    // the header value cannot be known before it runs, and the call is a production-destructive
    // mutation whose environment cannot be told: never allowed
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/substitution/);
  });
});
