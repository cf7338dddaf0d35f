// OpenAPI 3.1 documents of both services, built from the zod schemas the routes validate with
// (schemas.ts) through zod's own JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect).
// The catalogue of routes is in openapi-routes.ts; this file turns it into the documents.
import { z } from 'zod';
import { APPROVAL_ROUTES, BROKER_ROUTES, type RouteDoc } from './openapi-routes.js';

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
