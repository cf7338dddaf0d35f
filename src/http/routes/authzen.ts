import { Hono } from 'hono';
import { z } from 'zod';
import { isSafeText, printable } from '../../core/text.js';
import { decideToolCall, type ToolCallDecision } from '../../core/decide.js';
import { isStintError, StintError } from '../../core/errors.js';
import type { StintClaims } from '../../core/tokens.js';
import type { ToolCallFacts } from '../../core/tool-call.js';
import { SQL_STATEMENTS } from '../../policy/schema.js';
import { dpopBoundToken } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith } from '../schemas.js';

/**
 * OpenID AuthZEN Authorization API 1.0: the decision endpoint of the tool-call path. The caller
 * (`stint guard`, a gateway, an MCP server) authenticates with the task token and a DPoP proof of
 * its key; the subject is that task's agent; the action is one tool call, described without
 * secrets (see core/tool-call.ts). The answer is `{decision, context:{reason, rule?, stopped?,
 * auth_req_id?}}`.
 */
// Tool-call strings reach the trajectory, the audit log and `stint tasks show`: no control or
// bidirectional characters (CONTRACT "Stop events, precisely"); the error text is escaped instead.
const text = (max: number) => z.string().max(max).refine(isSafeText, { message: 'contains a control or bidirectional character' });
// `token`: another task's stint token of this issuer, handed over whole to be verified and revoked
// (core/tool-call-intake.ts); nothing else is ever sent as a value.
const credential = z.strictObject({ kind: text(80), fingerprint: z.string().regex(/^[0-9a-f]{8,64}$/), position: text(40), file: text(512).optional(), token: z.string().max(8192).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/).optional() });
const call = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    method: z.string().regex(/^[A-Za-z]{1,16}$/),
    host: text(255),
    path: text(2048),
    graphql: z.strictObject({ mutations: z.array(text(128)).max(50), queries: z.array(text(128)).max(50) }).optional(),
    graphqlUnparsed: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('sql'), statements: z.array(z.enum(SQL_STATEMENTS)).max(50), host: text(255).optional(), unparsed: z.boolean().optional(), hostUnresolved: z.boolean().optional() }),
  z.strictObject({ type: z.literal('command'), argv: z.array(text(1024)).max(32) }),
  z.strictObject({ type: z.literal('mcp'), server: text(128), tool: text(128) }),
]);
const toolCall = z.strictObject({
  stage: z.enum(['pre', 'post', 'failure', 'session', 'prompt']),
  tool: text(128),
  harness: text(32).optional(),
  credentials: z.array(credential).max(50).default([]),
  exposed: z.array(credential).max(50).default([]),
  calls: z.array(call).max(50).default([]),
  uncertain: text(500).optional(),
  call_hash: z.string().regex(/^[0-9a-f]{16,64}$/).optional(),
  error: z.string().max(2000).transform(printable).optional(),
  summary: text(500).optional(),
});
const subject = z.looseObject({ type: z.literal('agent'), id: text(200), properties: z.looseObject({ task_id: text(100).optional() }).optional() });
const action = z.looseObject({ name: z.literal('tool_call'), properties: toolCall });
const resource = z.looseObject({ type: text(64), id: text(256), properties: z.record(z.string(), z.unknown()).optional() });
const evaluation = z.looseObject({ subject, action, resource, context: z.record(z.string(), z.unknown()).optional() });
const evaluations = z.looseObject({
  subject: subject.optional(),
  action: action.optional(),
  resource: resource.optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  evaluations: z.array(z.looseObject({ subject: subject.optional(), action: action.optional(), resource: resource.optional(), context: z.record(z.string(), z.unknown()).optional() })).min(1).max(16),
});

type Evaluation = z.output<typeof evaluation>;

const factsOf = (e: Evaluation): ToolCallFacts => {
  const p = e.action.properties;
  return {
    stage: p.stage,
    tool: p.tool,
    harness: p.harness,
    credentials: p.credentials,
    exposed: p.exposed,
    calls: p.calls,
    uncertain: p.uncertain,
    callHash: p.call_hash,
    error: p.error,
    summary: p.summary,
  };
};

async function evaluateOne(c: Parameters<typeof dpopBoundToken>[0], claims: StintClaims, e: Evaluation): Promise<ToolCallDecision> {
  if (e.subject.id !== claims.sub) throw new StintError('forbidden', 'the subject must be the agent the task token was issued to');
  if (e.subject.properties?.task_id !== undefined && e.subject.properties.task_id !== claims.task_id) throw new StintError('forbidden', 'the subject names another task than the token');
  return decideToolCall(c.get('deps').core, claims, factsOf(e));
}

/** A stopped task's own token: the answer is a `false` decision that says so, not an HTTP error. */
async function authenticate(c: Parameters<typeof dpopBoundToken>[0]): Promise<{ claims: StintClaims; ended?: undefined } | { ended: ToolCallDecision }> {
  try {
    const claims = await dpopBoundToken(c);
    c.set('client', claims.sub);
    // Each evaluation appends to the log and the trajectory: limited per task (issue 21 item 7).
    c.get('deps').limits?.report(`task:${claims.task_id}`);
    return { claims };
  } catch (e) {
    if (isStintError(e) && e.code === 'task_stopped') return { ended: { decision: false, context: { reason: e.message, code: 'task_stopped', stopped: true } } };
    throw e;
  }
}

export const authzenRoutes = new Hono<BrokerEnv>()
  .get('/.well-known/authzen-configuration', (c) => {
    const iss = c.get('deps').core.issuer;
    return c.json(
      {
        policy_decision_point: iss,
        access_evaluation_endpoint: `${iss}/access/v1/evaluation`,
        access_evaluations_endpoint: `${iss}/access/v1/evaluations`,
      },
      200,
      { 'Cache-Control': 'public, max-age=300' },
    );
  })
  .post('/access/v1/evaluation', async (c) => {
    const auth = await authenticate(c);
    const body = parseWith(evaluation, await readJson(c), 'invalid_request', '');
    if (auth.ended) return c.json(auth.ended);
    return c.json(await evaluateOne(c, auth.claims, body));
  })
  .post('/access/v1/evaluations', async (c) => {
    const auth = await authenticate(c);
    const body = parseWith(evaluations, await readJson(c), 'invalid_request', '');
    const out: ToolCallDecision[] = [];
    for (const item of body.evaluations) {
      if (auth.ended) {
        out.push(auth.ended);
        continue;
      }
      const merged = parseWith(
        evaluation,
        { subject: item.subject ?? body.subject, action: item.action ?? body.action, resource: item.resource ?? body.resource, context: item.context ?? body.context },
        'invalid_request',
        '',
      );
      out.push(await evaluateOne(c, auth.claims, merged));
    }
    return c.json({ evaluations: out });
  });
