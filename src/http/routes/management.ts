import { Hono } from 'hono';
import { agentView, registerAgent } from '../../core/agents.js';
import { StintError } from '../../core/errors.js';
import { registerResource } from '../../core/resources.js';
import { completeTask, revokeTask, taskView } from '../../core/tasks.js';
import { operator, operatorOrTaskAgent, taskAgent } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { agentRegistrationSchema, parseWith, resourceRegistrationSchema } from '../schemas.js';

const TASK_ID = /^task_[A-Za-z0-9_-]{10,64}$/;

/** The operator API (RFC 9457 problems on error). */
export const managementRoutes = new Hono<BrokerEnv>()
  .post('/v1/agents', operator, async (c) => {
    const body = parseWith(agentRegistrationSchema, await readJson(c), 'invalid_request', '');
    const agent = await registerAgent(c.get('deps').core, body, 'operator');
    return c.json(agentView(agent), 201, { Location: `/v1/agents/${agent.id}` });
  })
  .post('/v1/resources', operator, async (c) => {
    const body = parseWith(resourceRegistrationSchema, await readJson(c), 'invalid_request', '');
    const { resource, secret, environment } = await registerResource(c.get('deps').core, body, 'operator');
    return c.json(
      {
        client_id: resource.id,
        client_secret: secret,
        name: resource.name,
        audience: resource.audience,
        // The environment it serves, by the policy (null: none, so it cannot report environment_mismatch).
        environment,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      201,
      { 'Cache-Control': 'no-store' },
    );
  })
  .get('/v1/tasks/:id', operatorOrTaskAgent, async (c) => {
    const id = taskId(c.req.param('id'));
    const agent = c.get('agent');
    if (agent && agent.task_id !== id) throw new StintError('forbidden', 'an agent may only read its own task');
    return c.json(await taskView(c.get('deps').core, id));
  })
  .post('/v1/tasks/:id/complete', taskAgent(), async (c) => {
    const id = taskId(c.req.param('id'));
    const agent = c.get('agent');
    if (!agent) throw new StintError('unauthorized', 'the task token is required');
    return c.json(await completeTask(c.get('deps').core, id, agent));
  })
  .post('/v1/tasks/:id/revoke', operator, async (c) => {
    const id = taskId(c.req.param('id'));
    return c.json(await revokeTask(c.get('deps').core, id, 'operator', 'revoked by an operator'));
  })
  .get('/v1/audit', operator, async (c) => {
    const after = boundedInt(c.req.query('after'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = boundedInt(c.req.query('limit'), 1, 10_000, 1000);
    const rows = await c.get('deps').core.store.audit.list(after, limit);
    const lines = rows.map((r) => JSON.stringify({ seq: r.seq, at: new Date(r.at).toISOString(), type: r.type, actor: r.actor, task_id: r.taskId, data: r.data, prev_hash: r.prevHash, hash: r.hash }));
    return c.body(lines.length ? `${lines.join('\n')}\n` : '', 200, { 'Content-Type': 'application/x-ndjson' });
  })
  .get('/v1/audit/verify', operator, async (c) => {
    return c.json(await c.get('deps').core.audit.verify());
  });

function taskId(raw: string): string {
  if (!TASK_ID.test(raw)) throw new StintError('not_found', 'no such task');
  return raw;
}

function boundedInt(raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,16}$/.test(raw)) throw new StintError('invalid_request', `expected an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new StintError('invalid_request', `expected an integer from ${min} to ${max}`);
  return n;
}
