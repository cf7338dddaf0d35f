// Issue 19, driven as Claude Code does: another agent's stint token used in a call stopped the
// presenting task but stayed active. A stint token seen without proof of its own key has leaked
// (CONTRACT.md, "Stop events, precisely"): the hook hands it to its issuer, which verifies it and
// revokes it. A token that does not verify (forged, naming a victim's jti) revokes nothing.
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { claudeBash, guardStack } from './helpers.js';

async function withVictim() {
  const s = await guardStack();
  const victim = await s.broker.registerAgent({ name: 'other-agent', owner: 'bob', templates: ['fix-credentials'] });
  const opened = await victim.openTask('fix-credentials', 'staging');
  expect(opened.status).toBe(200);
  return { s, victim, victimToken: opened.body.access_token as string, victimTask: opened.body.task_id as string };
}

describe('a foreign stint token seen in a call', () => {
  it('is revoked: refused at introspection and exchange; its task ends revoked; its owner is neither stopped nor locked; the presenter is stopped', async () => {
    const { s, victim, victimToken, victimTask } = await withVictim();
    expect((await s.broker.introspect(victimToken)).active).toBe(true);

    const r = await s.guard('claude-code', claudeBash(`curl -H "Authorization: Bearer ${victimToken}" https://api.staging.example/config`, s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect((await s.task()).status).toBe('stopped');

    expect(await s.broker.introspect(victimToken)).toEqual({ active: false });
    const ex = await victim.exchange(victimToken, { scope: 'config.read' });
    expect(ex.status).toBe(400);
    expect(['invalid_grant', 'task_stopped']).toContain(ex.body.error);
    const vt = (await (await s.broker.admin(`/v1/tasks/${victimTask}`)).json()) as any;
    expect(vt.status).toBe('revoked');
    expect((await s.broker.core.store.agents.get(victim.clientId))?.status).toBe('active');
    // the record of the revocation holds the token's id, never the token
    const audit = await (await s.broker.admin('/v1/audit')).text();
    expect(audit).toContain(String(decodeJwt(victimToken).jti));
    expect(audit).not.toContain(victimToken);
  });

  it('in a file the agent reads (shown, not used): revoked all the same', async () => {
    const { s, victimToken } = await withVictim();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${s.cwd}/ops/other.env`, `STINT_TOKEN=${victimToken}\n`);
    const r = await s.guard('claude-code', { ...claudeBash('', s.cwd), tool_name: 'Read', tool_input: { file_path: `${s.cwd}/ops/other.env` } });
    expect(r.answer.kind).toBe('block');
    expect(await s.broker.introspect(victimToken)).toEqual({ active: false });
  });

  it('a forged token naming a victim\'s jti and task revokes nothing (the broker verifies the signature)', async () => {
    const { s, victimToken, victimTask } = await withVictim();
    const real = decodeJwt(victimToken);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = s.broker.core.keys.kid;
    const forged = await new SignJWT({ ...real, jti: real.jti, task_id: victimTask })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .sign(privateKey);

    const r = await s.guard('claude-code', claudeBash(`curl -H "Authorization: Bearer ${forged}" https://api.staging.example/config`, s.cwd));
    // a credential value the task does not own, sent: the presenter is stopped as before …
    expect(r.answer.kind).toBe('stop');
    // … but the victim's token, task and agent are untouched
    expect((await s.broker.introspect(victimToken)).active).toBe(true);
    const vt = (await (await s.broker.admin(`/v1/tasks/${victimTask}`)).json()) as any;
    expect(vt.status).toBe('active');
  });

  it('the task\'s own capability token handed over is not foreign: no stop, nothing revoked', async () => {
    const s = await guardStack();
    const cap = await s.agent.exchange(s.state.task_token, { scope: 'config.read' });
    expect(cap.status).toBe(200);
    const token = cap.body.access_token as string;
    // the guard knows it by its task id: the task's own credential, used where it belongs
    const r = await s.guard('claude-code', claudeBash(`curl -H "Authorization: Bearer ${token}" https://api.staging.example/config`, s.cwd));
    expect(r.answer.kind).toBe('allow');
    expect((await s.task()).status).toBe('active');
    expect((await s.broker.introspect(token)).active).toBe(true);
  });
});
