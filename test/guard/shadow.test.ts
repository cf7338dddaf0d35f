// Shadow mode (CONTRACT.md, "The tool-call path"): a policy, one rule or one action matcher may
// say `mode: shadow`; its decisions are recorded on the trajectory and in the audit log as
// `would_block` / `would_stop`, and the call is allowed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/core/policy.js';
import { compilePolicy, PolicyError } from '../../src/policy/load.js';
import { defaultPolicy, POLICIES_DIR } from '../helpers/policy.js';
import { claudeBash, guardStack, RAILWAY_TOKEN } from './helpers.js';

const incident = `curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_123\\") }"}'`;
const tokenCall = `curl -H "Authorization: Bearer ${RAILWAY_TOKEN}" https://api.staging.example/config`;

/** The default policy files plus `extra` (YAML), compiled as `npm start` would. */
const withFile = (extra: string): Policy =>
  compilePolicy([
    ...readdirSync(POLICIES_DIR)
      .filter((n) => n.endsWith('.yaml'))
      .sort()
      .map((n) => ({ file: n, text: readFileSync(join(POLICIES_DIR, n), 'utf8') })),
    { file: 'shadow.yaml', text: extra },
  ]);
/** The default policy with its trajectory section replaced (a policy defines it once). */
const withRules = (rules: Policy['trajectory']['rules']): Policy => {
  const p = defaultPolicy();
  return { ...p, trajectory: { ...p.trajectory, rules: { ...p.trajectory.rules, ...rules } } };
};

const recorded = async (s: Awaited<ReturnType<typeof guardStack>>) => (await s.task()).events.map((e: any) => e.detail);

describe('shadow mode', () => {
  it('a policy in shadow mode allows a call enforce would stop, and records would_stop on the trajectory and in the audit log', async () => {
    const s = await guardStack({ policy: withFile('mode: shadow\n') });
    const r = await s.guard('claude-code', claudeBash(incident, s.cwd));
    expect(r.answer.kind).toBe('allow');
    expect(r.rendered.exitCode).toBe(0);
    expect((await s.task()).status).toBe('active');
    expect(await s.agentStatus()).toBe('active');
    const would = (await recorded(s)).find((d: any) => d.type === 'tool_call.would_stop');
    expect(would).toMatchObject({ mode: 'shadow', rule: 'substitution', code: 'task_stopped', tool: 'Bash' });
    expect(would.fingerprints[0]).toMatchObject({ kind: expect.any(String), position: 'header' });
    // one record for the call: what it would have been
    expect((await recorded(s)).filter((d: any) => /^tool_call\./.test(d.type)).map((d: any) => d.type)).toEqual(['tool_call.would_stop']);
    const audit = await (await s.broker.admin('/v1/audit')).text();
    expect(audit).toContain('"type":"tool_call.would_stop"');
    expect(audit).not.toContain('"type":"task.stopped"');
    expect(audit).not.toContain(RAILWAY_TOKEN);
  });

  it('the same call under the default policy stops the task (the control)', async () => {
    const s = await guardStack();
    expect((await s.guard('claude-code', claudeBash(incident, s.cwd))).answer.kind).toBe('stop');
    expect((await s.task()).status).toBe('stopped');
  });

  it('one rule in shadow: substitution is recorded as would_stop and allowed; another rule still enforces', async () => {
    const s = await guardStack({ policy: withRules({ substitution: { action: 'stop', mode: 'shadow' } }) });
    const r = await s.guard('claude-code', claudeBash(tokenCall, s.cwd));
    expect(r.answer.kind).toBe('allow');
    expect((await recorded(s)).filter((d: any) => d.type === 'tool_call.would_stop').map((d: any) => d.rule)).toEqual(['substitution']);
    // the incident's mutation is still a destructive action in production: enforced
    const d = await s.guard('claude-code', claudeBash(`curl -X POST https://backboard.railway.app/graphql/v2 -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_1\\") }"}'`, s.cwd));
    expect(d.answer.kind).toBe('stop');
    expect((await s.task()).status).toBe('stopped');
    expect((await s.task()).status_reason).toMatch(/^environment_mismatch/);
  });

  it('a refusing rule in shadow (uncertain): would_block, allowed', async () => {
    const s = await guardStack({ policy: withRules({ uncertain: { mode: 'shadow' } }) });
    const r = await s.guard('claude-code', claudeBash(`psql "$DATABASE_URL" -c "DROP TABLE users"`, s.cwd));
    expect(r.answer.kind).toBe('allow');
    expect((await recorded(s)).find((d: any) => d.type === 'tool_call.would_block')).toMatchObject({ rule: 'uncertain', code: 'access_denied' });
    // without shadow mode, the same call is blocked
    const e = await guardStack();
    expect((await e.guard('claude-code', claudeBash(`psql "$DATABASE_URL" -c "DROP TABLE users"`, e.cwd))).answer.kind).toBe('block');
  });

  it('a new action matcher in shadow mode: what it classifies is recorded, not enforced; the same matcher enforcing stops', async () => {
    const matcher = (mode: string) => `actions:\n  - capability: db.drop\n    command: { argv: [ops-tool, purge] }\n${mode}`;
    const s = await guardStack({ policy: withFile(matcher('    mode: shadow\n')) });
    const r = await s.guard('claude-code', claudeBash('ops-tool purge --all', s.cwd));
    expect(r.answer.kind).toBe('allow');
    expect((await recorded(s)).find((d: any) => d.type === 'tool_call.would_stop')).toMatchObject({ capabilities: ['db.drop'] });
    // the default policy's own matchers keep enforcing
    expect((await s.guard('claude-code', claudeBash('terraform destroy -auto-approve', s.cwd))).answer.kind).toBe('stop');

    const e = await guardStack({ policy: withFile(matcher('')) });
    expect((await e.guard('claude-code', claudeBash('ops-tool purge --all', e.cwd))).answer.kind).toBe('stop');
  });

  it('the policy files: mode is checked by the schema, and said once for the whole policy', () => {
    expect(withFile('mode: shadow\n').mode).toBe('shadow');
    expect(withFile('actions:\n  - capability: db.drop\n    command: { argv: [x] }\n    mode: shadow\n').actions.at(-1)).toMatchObject({ mode: 'shadow' });
    const bad = (() => {
      try {
        withFile('mode: maybe\n');
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(PolicyError);
    expect((bad as PolicyError).problems[0]).toMatchObject({ file: 'shadow.yaml', field: 'mode' });
    const twice = (() => {
      try {
        compilePolicy([...readdirSync(POLICIES_DIR).filter((n) => n.endsWith('.yaml')).map((n) => ({ file: n, text: readFileSync(join(POLICIES_DIR, n), 'utf8') })), { file: 'a.yaml', text: 'mode: shadow\n' }, { file: 'b.yaml', text: 'mode: enforce\n' }]);
      } catch (e) {
        return e;
      }
    })();
    expect((twice as PolicyError).problems[0]).toMatchObject({ file: 'b.yaml', reason: expect.stringMatching(/already defined in a\.yaml/) });
  });
});
