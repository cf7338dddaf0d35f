// OpenAPI 3.1 documents of both services, built from the zod schemas the routes validate with
// (schemas.ts) through zod's own JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect).
// What is written here is the catalogue — method, path, who may call, which schema — and a
// test checks that every route the apps register is in it.
import { z } from 'zod';
import {
  agentListQuerySchema,
  agentRegistrationSchema,
  approverKeySchema,
  approverSchema,
  capabilityDetailsSchema,
  decisionSchema,
  internalCallSchema,
  receiverSchema,
  resourceRegistrationSchema,
  revocationSchema,
  secretSchema,
  signalSchema,
  taskDetailsSchema,
  taskListQuerySchema,
  webhookSchema,
} from './schemas.js';

type Security = 'operator' | 'agent_dpop' | 'resource_basic' | 'approver' | 'approval_admin' | 'internal' | 'none';
interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  security: Security[];
  json?: z.ZodType;
  form?: z.ZodType;
  query?: z.ZodObject;
  body?: string;
  responses?: Record<string, string>;
  tags: string[];
}

/** The token endpoint's form (RFC 6749 §4.4, RFC 8693, CIBA poll), as the grant modules read it. */
const tokenForm = z.object({
  grant_type: z.enum(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:openid:params:grant-type:ciba']),
  client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
  client_assertion: z.string().describe('private_key_jwt (RFC 7523)'),
  authorization_details: z.string().optional().describe(`JSON (RFC 9396): ${JSON.stringify(z.toJSONSchema(taskDetailsSchema, { io: 'input' }))} or ${JSON.stringify(z.toJSONSchema(capabilityDetailsSchema, { io: 'input' }))}`),
  scope: z.string().optional().describe('capability names, space-separated'),
  subject_token: z.string().optional(),
  subject_token_type: z.literal('urn:ietf:params:oauth:token-type:access_token').optional(),
  requested_token_type: z.string().optional(),
  resource: z.string().optional(),
  auth_req_id: z.string().optional(),
});
const tokenOnlyForm = z.object({ token: z.string(), token_type_hint: z.string().optional() });
const bcAuthorizeForm = z.object({
  client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
  client_assertion: z.string(),
  subject_token: z.string(),
  scope: z.string(),
  resource: z.string().optional(),
  binding_message: z.string().optional(),
});

const ops = (prefix: string, admin: Security): RouteDoc[] => [
  { method: 'get', path: '/healthz', summary: `${prefix} process is up`, security: ['none'], tags: ['operations'] },
  { method: 'get', path: '/readyz', summary: 'ready: store writable, policy loaded, peer reachable (503 with the failing checks otherwise)', security: ['none'], tags: ['operations'], responses: { '200': 'ready', '503': 'not ready' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus text format', security: [admin], body: 'text/plain', tags: ['operations'] },
  { method: 'get', path: '/openapi.json', summary: 'this document', security: ['none'], tags: ['operations'] },
];

export const BROKER_ROUTES: RouteDoc[] = [
  ...ops('broker', 'operator'),
  { method: 'get', path: '/.well-known/oauth-authorization-server', summary: 'RFC 8414 metadata', security: ['none'], tags: ['oauth'] },
  { method: 'get', path: '/.well-known/jwks.json', summary: 'public signing keys', security: ['none'], tags: ['oauth'] },
  { method: 'post', path: '/token', summary: 'open a task; exchange for a capability; poll an approval (DPoP proof required)', security: ['none'], form: tokenForm, tags: ['oauth'] },
  { method: 'post', path: '/bc-authorize', summary: 'ask for a destructive capability (CIBA-shaped)', security: ['none'], form: bcAuthorizeForm, tags: ['oauth'] },
  { method: 'post', path: '/introspect', summary: 'RFC 7662', security: ['resource_basic', 'operator'], form: tokenOnlyForm, tags: ['oauth'] },
  { method: 'post', path: '/revoke', summary: 'RFC 7009', security: ['operator'], form: tokenOnlyForm, tags: ['oauth'] },
  { method: 'post', path: '/v1/agents', summary: 'register an agent', security: ['operator'], json: agentRegistrationSchema, tags: ['management'], responses: { '201': 'registered' } },
  { method: 'get', path: '/v1/agents', summary: 'list agents, newest first', security: ['operator'], query: agentListQuerySchema, tags: ['management'] },
  { method: 'post', path: '/v1/agents/{id}/release', summary: 'release a locked agent', security: ['operator'], tags: ['management'] },
  { method: 'post', path: '/v1/resources', summary: 'register a resource service', security: ['operator'], json: resourceRegistrationSchema, tags: ['management'], responses: { '201': 'registered' } },
  { method: 'get', path: '/v1/tasks', summary: 'list tasks, newest first (cursor pagination)', security: ['operator'], query: taskListQuerySchema, tags: ['management'] },
  { method: 'get', path: '/v1/tasks/{id}', summary: 'a task and its events', security: ['operator', 'agent_dpop'], tags: ['management'] },
  { method: 'post', path: '/v1/tasks/{id}/complete', summary: 'end a task (its agent)', security: ['agent_dpop'], tags: ['management'] },
  { method: 'post', path: '/v1/tasks/{id}/revoke', summary: 'revoke a task', security: ['operator'], tags: ['management'] },
  { method: 'post', path: '/v1/revocations', summary: 'revoke by agent, environment or all', security: ['operator'], json: revocationSchema, tags: ['management'] },
  { method: 'post', path: '/v1/receivers', summary: 'register a SET push receiver (RFC 8935)', security: ['operator'], json: receiverSchema, tags: ['management'], responses: { '201': 'registered' } },
  { method: 'post', path: '/v1/signals', summary: 'report a signal; may stop a task', security: ['resource_basic', 'agent_dpop'], json: signalSchema, tags: ['signals'] },
  { method: 'get', path: '/v1/events', summary: 'revocations and stops as server-sent events', security: ['resource_basic', 'operator'], body: 'text/event-stream', tags: ['signals'] },
  { method: 'get', path: '/v1/audit', summary: 'the hash-chained audit log (JSON lines)', security: ['operator'], body: 'application/x-ndjson', tags: ['audit'] },
  { method: 'get', path: '/v1/audit/verify', summary: 'check the audit chain', security: ['operator'], tags: ['audit'] },
  { method: 'post', path: '/v1/secrets', summary: 'store a secret (write-only)', security: ['operator'], json: secretSchema, tags: ['vault'], responses: { '201': 'stored' } },
  { method: 'get', path: '/v1/secrets', summary: 'list secret names', security: ['operator'], tags: ['vault'] },
  { method: 'post', path: '/internal/approval', summary: 'calls from the approval service (signed JWT)', security: ['internal'], body: 'application/jwt', tags: ['internal'] },
  { method: 'get', path: '/.well-known/authzen-configuration', summary: 'OpenID AuthZEN 1.0 metadata (the decision endpoints)', security: ['none'], tags: ['authzen'] },
  { method: 'post', path: '/access/v1/evaluation', summary: 'decide one tool call of the task (AuthZEN evaluation; stint guard is a client)', security: ['agent_dpop'], tags: ['authzen'] },
  { method: 'post', path: '/access/v1/evaluations', summary: 'decide several tool calls (AuthZEN evaluations)', security: ['agent_dpop'], tags: ['authzen'] },
];

export const APPROVAL_ROUTES: RouteDoc[] = [
  ...ops('approval service', 'approval_admin'),
  { method: 'get', path: '/.well-known/jwks.json', summary: "the approval authority's public keys", security: ['none'], tags: ['approvals'] },
  { method: 'post', path: '/v1/approvers', summary: 'register an approver', security: ['approval_admin'], json: approverSchema, tags: ['approvals'], responses: { '201': 'registered' } },
  { method: 'get', path: '/v1/approvals', summary: 'approval requests by status', security: ['approver'], query: z.object({ status: z.enum(['pending', 'approved', 'denied', 'expired', 'voided', 'delivered']).optional() }), tags: ['approvals'] },
  { method: 'get', path: '/v1/approvals/{id}', summary: 'one approval request in full', security: ['approver'], tags: ['approvals'] },
  { method: 'post', path: '/v1/approvals/{id}/decision', summary: 'approve or deny (a JWS over the digest)', security: ['approver'], json: decisionSchema, tags: ['approvals'] },
  { method: 'post', path: '/internal/broker', summary: 'calls from the broker (signed JWT carrying one of these)', security: ['internal'], body: 'application/jwt', json: internalCallSchema, tags: ['internal'] },
  { method: 'get', path: '/v1/approvers', summary: 'approvers and their keys', security: ['approval_admin'], tags: ['approvers'] },
  { method: 'get', path: '/v1/approvers/{id}/keys', summary: "an approver's keys", security: ['approval_admin'], tags: ['approvers'] },
  { method: 'post', path: '/v1/approvers/{id}/keys', summary: "add (rotate in) an approver's key; `replaces` retires the old one", security: ['approval_admin'], json: approverKeySchema, tags: ['approvers'], responses: { '201': 'added' } },
  { method: 'delete', path: '/v1/approvers/{id}/keys/{kid}', summary: "retire an approver's key", security: ['approval_admin'], tags: ['approvers'] },
  { method: 'post', path: '/v1/approvers/{id}/enrolment', summary: 'a one-time passkey enrolment link for the console', security: ['approval_admin'], tags: ['approvers'], responses: { '201': 'created' } },
  { method: 'post', path: '/v1/webhooks', summary: 'register a webhook notified when a request opens', security: ['approval_admin'], json: webhookSchema, tags: ['approvers'], responses: { '201': 'registered' } },
  { method: 'get', path: '/v1/webhooks', summary: 'registered webhooks', security: ['approval_admin'], tags: ['approvers'] },
  { method: 'delete', path: '/v1/webhooks/{id}', summary: 'remove a webhook', security: ['approval_admin'], tags: ['approvers'] },
  ...consoleRoutes(),
];

/** The approver console: pages and the JSON calls its script makes (passkey ceremonies, decisions). */
function consoleRoutes(): RouteDoc[] {
  const page = (path: string, summary: string, security: Security[] = ['none']): RouteDoc => ({ method: 'get', path, summary, security, body: 'text/html', tags: ['console'] });
  const call = (path: string, summary: string): RouteDoc => ({ method: 'post', path, summary, security: ['none'], tags: ['console'] });
  return [
    page('/', 'the pending list (signed in) or the sign-in page'),
    page('/enrol/{token}', 'enrol a passkey from a one-time link'),
    page('/requests/{id}', 'one request in full, to approve or deny with a passkey'),
    page('/keys', "the approver's passkeys"),
    { method: 'get', path: '/console.js', summary: "the console's script", security: ['none'], body: 'text/javascript', tags: ['console'] },
    { method: 'get', path: '/console.css', summary: "the console's style sheet", security: ['none'], body: 'text/css', tags: ['console'] },
    call('/console/enrol/options', 'WebAuthn registration options for an enrolment link'),
    call('/console/enrol/verify', 'verify the new passkey'),
    call('/console/signin/options', 'WebAuthn authentication options'),
    call('/console/signin/verify', 'verify a sign-in assertion (sets the session cookie)'),
    call('/console/signout', 'end the session'),
    call('/console/requests/{id}/decision/options', 'a challenge bound to the request digest and the decision'),
    call('/console/requests/{id}/decision', 'approve or deny with a passkey assertion'),
    call('/console/keys/new', 'add a passkey (registration options and verification)'),
    call('/console/keys/{kid}/retire', 'retire a passkey'),
  ];
}

const SECURITY_SCHEMES = {
  operator: { type: 'http', scheme: 'bearer', description: 'STINT_ADMIN_TOKEN' },
  approval_admin: { type: 'http', scheme: 'bearer', description: 'STINT_APPROVAL_ADMIN_TOKEN' },
  agent_dpop: { type: 'http', scheme: 'DPoP', description: 'Authorization: DPoP <token> with a DPoP proof (RFC 9449)' },
  resource_basic: { type: 'http', scheme: 'basic', description: 'a registered resource service (client_secret_basic)' },
  approver: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "a request JWT signed by the approver's key" },
  internal: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'signed service-to-service JWT in the body' },
} as const;

const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const strip = ({ $schema: _, ...rest }: Record<string, unknown>) => rest;

const problem = { description: 'an RFC 9457 problem (RFC 6749 error on OAuth endpoints)', content: { 'application/problem+json': { schema: { type: 'object', properties: { error: { type: 'string' }, detail: { type: 'string' } } } } } };

function operation(r: RouteDoc) {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (r.query) {
    for (const [name, field] of Object.entries(r.query.shape)) {
      params.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, schema: strip(jsonSchema(field as z.ZodType)) as { type: string } });
    }
  }
  const requestBody = r.form
    ? { required: true, content: { 'application/x-www-form-urlencoded': { schema: strip(jsonSchema(r.form)) } } }
    : r.json
      ? { required: true, content: { [r.body ?? 'application/json']: { schema: strip(jsonSchema(r.json)) } } }
      : r.body && r.method === 'post'
        ? { required: true, content: { [r.body]: { schema: { type: 'string' } } } }
        : undefined;
  const ok = Object.entries(r.responses ?? { '200': 'OK' });
  const mediaOut = r.body && r.method === 'get' ? r.body : 'application/json';
  return {
    summary: r.summary,
    tags: r.tags,
    operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(\w?)/g, (_, c: string) => c.toUpperCase())}`,
    ...(params.length ? { parameters: params } : {}),
    ...(requestBody ? { requestBody } : {}),
    security: r.security.map((s) => (s === 'none' ? {} : { [s]: [] })),
    responses: {
      ...Object.fromEntries(ok.map(([code, description]) => [code, { description, content: { [mediaOut]: { schema: {} } } }])),
      default: problem,
    },
  };
}

export function openApiDocument(o: { title: string; version: string; routes: RouteDoc[]; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of o.routes) (paths[r.path] ??= {})[r.method] = operation(r);
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    ...(o.serverUrl ? { servers: [{ url: o.serverUrl }] } : {}),
    paths,
    components: { securitySchemes: SECURITY_SCHEMES },
  };
}

export const VERSION = '0.1.0';
export const brokerOpenApi = (serverUrl?: string) => openApiDocument({ title: 'stint broker', version: VERSION, routes: BROKER_ROUTES, serverUrl });
export const approvalOpenApi = (serverUrl?: string) => openApiDocument({ title: 'stint approval service', version: VERSION, routes: APPROVAL_ROUTES, serverUrl });
