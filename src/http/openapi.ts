// OpenAPI 3.1 documents of both services, built from the zod schemas the routes validate with
// (schemas.ts) through zod's own JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect).
// The catalogue of routes is in openapi-routes.ts; this file turns it into the documents.
import { z } from 'zod';
import { APPROVAL_ROUTES, BROKER_ROUTES, RAR_FIELDS, rarSchemas, type RouteDoc } from './openapi-routes.js';

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

/** The two error bodies, by route group (src/http/errors.ts chooses the same way). */
const ERROR_SCHEMAS = {
  OAuthError: {
    type: 'object',
    description: 'RFC 6749 §5.2 error response (the OAuth endpoints); some errors carry more fields, such as approval_required\'s auth_req_id',
    required: ['error'],
    properties: {
      error: { type: 'string', examples: ['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_authorization_details', 'approval_required', 'authorization_pending', 'slow_down', 'access_denied', 'expired_token', 'task_stopped', 'unauthorized_client', 'too_many_requests'] },
      error_description: { type: 'string' },
      error_uri: { type: 'string', format: 'uri' },
      auth_req_id: { type: 'string', description: 'approval_required: the approval request to poll' },
      expires_in: { type: 'integer' },
      interval: { type: 'integer', description: 'seconds between polls' },
    },
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details (every route but the OAuth endpoints); `error` repeats the code for programs',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string', format: 'uri-reference', examples: ['urn:stint:problem:invalid_request'] },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string', format: 'uri-reference' },
      error: { type: 'string' },
    },
  },
};

const errorBody = (r: RouteDoc, description: string) =>
  r.errors === 'oauth'
    ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } } }
    : { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

/** The 4xx answers an operation can give, from what it takes: input, credentials, a path id, a body, a rate limit. */
function refusals(r: RouteDoc): Record<string, unknown> {
  const out: Record<string, string> = {};
  const oauth = r.errors === 'oauth';
  const authenticated = !r.security.includes('none');
  if (r.form || r.json || r.query || (r.body && r.method === 'post') || oauth) {
    out['400'] = oauth ? 'refused (RFC 6749 §5.2: invalid_request, invalid_grant, invalid_authorization_details, approval_required, authorization_pending, task_stopped, …)' : 'malformed or refused input; the problem names the field and why';
  }
  if (authenticated || oauth) out['401'] = oauth ? 'invalid_client: the client could not be authenticated' : 'missing or invalid credentials';
  if (authenticated) out['403'] = 'the caller may not do this';
  if (/\{\w+\}/.test(r.path)) out['404'] = 'no such resource';
  if (r.method === 'post') out['413'] = 'the request body is too large';
  if (r.rateLimited) out['429'] = 'too many requests from this source (see Retry-After)';
  if (Object.keys(out).length === 0) out['4XX'] = 'refused; the problem says why';
  return Object.fromEntries(Object.entries(out).map(([code, d]) => [code, errorBody(r, d)]));
}

function formSchema(r: RouteDoc): Record<string, unknown> {
  const schema = strip(jsonSchema(r.form!)) as { properties?: Record<string, unknown> };
  const rar = RAR_FIELDS[r.path];
  if (rar && schema.properties?.authorization_details) schema.properties.authorization_details = rar;
  return schema;
}

function operation(r: RouteDoc) {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (r.query) {
    for (const [name, field] of Object.entries(r.query.shape)) {
      params.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, schema: strip(jsonSchema(field as z.ZodType)) as { type: string } });
    }
  }
  const encoding = r.jsonFields ? { encoding: Object.fromEntries(r.jsonFields.map((f) => [f, { contentType: 'application/json' }])) } : {};
  const requestBody = r.form
    ? { required: true, content: { 'application/x-www-form-urlencoded': { schema: formSchema(r), ...encoding } } }
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
      ...Object.fromEntries(ok.map(([code, description]) => [code, { description, content: { [mediaOut]: { schema: (code.startsWith('2') && r.answers) || {} } } }])),
      ...refusals(r),
      default: errorBody(r, r.errors === 'oauth' ? 'an RFC 6749 error (5xx: server_error, temporarily_unavailable)' : 'an RFC 9457 problem (5xx: server_error, temporarily_unavailable)'),
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
    components: { securitySchemes: SECURITY_SCHEMES, schemas: { ...ERROR_SCHEMAS, ...rarSchemas() } },
  };
}

export const VERSION = '0.1.0';
export const brokerOpenApi = (serverUrl?: string) => openApiDocument({ title: 'stint broker', version: VERSION, routes: BROKER_ROUTES, serverUrl });
export const approvalOpenApi = (serverUrl?: string) => openApiDocument({ title: 'stint approval service', version: VERSION, routes: APPROVAL_ROUTES, serverUrl });
