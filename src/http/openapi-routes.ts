// The catalogue of both services' routes for their OpenAPI documents: method, path, who may
// call, which of the routes' own zod schemas validates the input. test/openapi.test.ts checks it
// against the routes the apps register, both ways.
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


export type Security = 'operator' | 'agent_dpop' | 'resource_basic' | 'approver' | 'approval_admin' | 'internal' | 'none';
export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  security: Security[];
  json?: z.ZodType;
  form?: z.ZodType;
  query?: z.ZodObject;
  body?: string;
  responses?: Record<string, string>;
  /** A schema of the success answer (200/201), when it is worth naming. */
  answers?: Record<string, unknown>;
  /** The error form of the route's group: RFC 6749 §5.2 (`oauth`) or RFC 9457 problems (default). */
  errors?: 'oauth' | 'problem';
  /** Request fields sent as JSON inside the form (OpenAPI `encoding`). */
  jsonFields?: string[];
  /** Refused with 429 when one source sends too many (the unauthenticated doors). */
  rateLimited?: boolean;
  tags: string[];
}

/** RFC 9396 authorization details, by reference to the document's own schemas. */
export const RAR_REF = { $ref: '#/components/schemas/AuthorizationDetails' };
const CAPABILITY_RAR_REF = { $ref: '#/components/schemas/CapabilityAuthorizationDetails' };

/** The token endpoint's form (RFC 6749 §4.4, RFC 8693, CIBA poll), as the grant modules read it. */
const tokenForm = z.object({
  grant_type: z.enum(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:openid:params:grant-type:ciba']),
  client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
  client_assertion: z.string().describe('private_key_jwt (RFC 7523)'),
  // Its schema is the document's AuthorizationDetails (RFC 9396), set by openapi.ts: JSON inside the form.
  authorization_details: z.string().optional(),
  scope: z.string().optional().describe('capability names, space-separated'),
  subject_token: z.string().optional(),
  subject_token_type: z.literal('urn:ietf:params:oauth:token-type:access_token').optional(),
  requested_token_type: z.string().optional(),
  resource: z.string().optional(),
  auth_req_id: z.string().optional(),
});
/** The element schemas of RFC 9396 `authorization_details`, for the document's components. */
export const rarSchemas = () => {
  const items = (s: z.ZodType) => (z.toJSONSchema(s, { io: 'input' }) as { items: Record<string, unknown> }).items;
  return {
    TaskAuthorizationDetail: { ...items(taskDetailsSchema), description: 'open a task (RFC 9396 type stint_task)' },
    CapabilityAuthorizationDetail: { ...items(capabilityDetailsSchema), description: 'a capability of the task (RFC 9396 type stint_capability); locations: its resource URI' },
    AuthorizationDetails: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: { oneOf: [{ $ref: '#/components/schemas/TaskAuthorizationDetail' }, { $ref: '#/components/schemas/CapabilityAuthorizationDetail' }], discriminator: { propertyName: 'type', mapping: { stint_task: '#/components/schemas/TaskAuthorizationDetail', stint_capability: '#/components/schemas/CapabilityAuthorizationDetail' } } },
      description: 'RFC 9396 authorization details, sent as JSON in the form field: one stint_task (opening a task) or one stint_capability (token exchange)',
    },
    CapabilityAuthorizationDetails: { type: 'array', minItems: 1, maxItems: 1, items: { $ref: '#/components/schemas/CapabilityAuthorizationDetail' } },
  };
};
/** Which form fields take which RAR schema. */
export const RAR_FIELDS: Record<string, Record<string, unknown>> = { '/token': RAR_REF, '/bc-authorize': CAPABILITY_RAR_REF };

const tokenOnlyForm = z.object({ token: z.string(), token_type_hint: z.string().optional() });
const bcAuthorizeForm = z.object({
  client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
  client_assertion: z.string(),
  subject_token: z.string().describe('the task token'),
  scope: z.string().optional().describe('one destructive capability (or authorization_details)'),
  authorization_details: z.string().optional(),
  resource: z.string().optional(),
  binding_message: z.string().optional(),
});

/** The token endpoint's success answer (RFC 6749 §5.1, RFC 8693 §2.2, RFC 9396 §7). */
const tokenAnswer = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['DPoP', 'N_A'] },
    expires_in: { type: 'integer' },
    issued_token_type: { type: 'string' },
    task_id: { type: 'string', description: 'opening a task: its id' },
    authorization_details: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] }, description: 'what was granted (RFC 9396 §7): the task and its ceiling, or the capability' },
    aws: { type: 'object', description: 'an AWS capability: the STS session' },
  },
};

const ops = (prefix: string, admin: Security): RouteDoc[] => [
  { method: 'get', path: '/healthz', summary: `${prefix} process is up`, security: ['none'], tags: ['operations'] },
  { method: 'get', path: '/readyz', summary: 'ready: store writable, policy loaded, peer reachable; `status` ok, degraded (the approval service down: destructive requests answer 503) or unavailable (503 with the failing checks)', security: ['none'], tags: ['operations'], responses: { '200': 'ready', '503': 'not ready' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus text format', security: [admin], body: 'text/plain', tags: ['operations'] },
  { method: 'get', path: '/openapi.json', summary: 'this document', security: ['none'], tags: ['operations'] },
];

export const BROKER_ROUTES: RouteDoc[] = [
  ...ops('broker', 'operator'),
  { method: 'get', path: '/.well-known/oauth-authorization-server', summary: 'RFC 8414 metadata', security: ['none'], tags: ['oauth'] },
  { method: 'get', path: '/.well-known/jwks.json', summary: 'public signing keys', security: ['none'], tags: ['oauth'] },
  { method: 'post', path: '/token', summary: 'open a task; exchange for a capability; poll an approval (DPoP proof required)', security: ['none'], form: tokenForm, jsonFields: ['authorization_details'], errors: 'oauth', rateLimited: true, answers: tokenAnswer, tags: ['oauth'] },
  { method: 'post', path: '/bc-authorize', summary: 'ask for a destructive capability (CIBA-shaped)', security: ['none'], form: bcAuthorizeForm, jsonFields: ['authorization_details'], errors: 'oauth', rateLimited: true, tags: ['oauth'], answers: { type: 'object', required: ['auth_req_id', 'expires_in', 'interval'], properties: { auth_req_id: { type: 'string' }, expires_in: { type: 'integer' }, interval: { type: 'integer' } } } },
  { method: 'post', path: '/introspect', summary: 'RFC 7662', security: ['resource_basic', 'operator'], form: tokenOnlyForm, errors: 'oauth', tags: ['oauth'] },
  { method: 'post', path: '/revoke', summary: 'RFC 7009', security: ['operator'], form: tokenOnlyForm, errors: 'oauth', tags: ['oauth'] },
  { method: 'post', path: '/v1/agents', summary: 'register an agent', security: ['operator'], json: agentRegistrationSchema, tags: ['management'], responses: { '201': 'registered' } },
  { method: 'get', path: '/v1/agents', summary: 'list agents, newest first', security: ['operator'], query: agentListQuerySchema, tags: ['management'] },
  { method: 'get', path: '/v1/agents/{id}', summary: 'one agent, and the stop that locked it', security: ['operator'], tags: ['management'] },
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
