import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { testStack } from './helpers/stack.js';

// /openapi.json on both services: a valid OpenAPI 3.1 document naming every route the app has.
const pathOf = (honoPath: string) => honoPath.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI', () => {
  it('both services serve a valid 3.1 document with every registered route', async () => {
    const s = await testStack();
    const apps = [
      { name: 'broker', app: s.broker.app, request: (p: string) => s.broker.request(p) },
      { name: 'approvals', app: s.approvals.app, request: (p: string) => s.approvals.app.request(`http://localhost:8788${p}`) },
    ];
    for (const { name, app, request } of apps) {
      const res = await request('/openapi.json');
      expect(res.status, name).toBe(200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toBe('3.1.0');
      // The validator dereferences in place: give it a copy.
      await SwaggerParser.validate(structuredClone(doc) as never);
      const routes = new Set((app.routes as { method: string; path: string }[]).filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${pathOf(r.path)}`));
      expect(routes.size).toBeGreaterThan(8);
      for (const r of routes) {
        const [method, path] = r.split(' ') as [string, string];
        expect(doc.paths[path]?.[method], `${name}: ${r} is not in /openapi.json`).toBeTruthy();
      }
      // and nothing documented that does not exist
      for (const [path, methods] of Object.entries(doc.paths)) for (const m of Object.keys(methods)) expect(routes.has(`${m} ${path}`), `${name}: ${m} ${path}`).toBe(true);
    }
  });

  it('documents request bodies and queries from the routes’ own zod schemas', async () => {
    const s = await testStack();
    const doc = (await (await s.broker.request('/openapi.json')).json()) as any;
    const agentBody = doc.paths['/v1/agents'].post.requestBody.content['application/json'].schema;
    expect(agentBody.required).toEqual(['name', 'owner', 'jwks']);
    expect(agentBody.additionalProperties).toBe(false);
    const status = doc.paths['/v1/tasks'].get.parameters.find((p: any) => p.name === 'status');
    expect(status.schema.enum).toEqual(['active', 'stopped', 'revoked', 'completed', 'expired']);
  });

  it('every operation declares its 4xx answers, in the error form of its route group (RFC 6749 on the OAuth endpoints, RFC 9457 elsewhere)', async () => {
    const s = await testStack();
    const OAUTH = new Set(['/token', '/bc-authorize', '/introspect', '/revoke']);
    for (const doc of [(await (await s.broker.request('/openapi.json')).json()) as any, (await (await s.approvals.app.request('http://localhost:8788/openapi.json')).json()) as any]) {
      expect(doc.components.schemas.OAuthError.required).toEqual(['error']);
      expect(doc.components.schemas.Problem.required).toEqual(['type', 'title', 'status']);
      for (const [path, methods] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
        for (const [method, op] of Object.entries(methods)) {
          const refusals = Object.entries(op.responses as Record<string, any>).filter(([code]) => /^4(\d\d|XX)$/.test(code));
          expect(refusals.length, `${method} ${path}`).toBeGreaterThan(0);
          for (const [code, r] of [...refusals, ['default', op.responses.default]] as [string, any][]) {
            const want = OAUTH.has(path) ? { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } } : { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
            expect(r.content, `${method} ${path} ${code}`).toEqual(want);
          }
        }
      }
    }
    const doc = (await (await s.broker.request('/openapi.json')).json()) as any;
    expect(Object.keys(doc.paths['/token'].post.responses)).toEqual(['200', '400', '401', '413', '429', 'default']);
    expect(Object.keys(doc.paths['/v1/tasks/{id}'].get.responses)).toEqual(['200', '401', '403', '404', 'default']);
  });

  it('authorization_details (RFC 9396) is a schema of its own, JSON inside the form, not text in a description', async () => {
    const s = await testStack();
    const doc = (await (await s.broker.request('/openapi.json')).json()) as any;
    const token = doc.paths['/token'].post.requestBody.content['application/x-www-form-urlencoded'];
    expect(token.schema.properties.authorization_details).toEqual({ $ref: '#/components/schemas/AuthorizationDetails' });
    expect(token.encoding.authorization_details.contentType).toBe('application/json');
    const bc = doc.paths['/bc-authorize'].post.requestBody.content['application/x-www-form-urlencoded'];
    expect(bc.schema.properties.authorization_details).toEqual({ $ref: '#/components/schemas/CapabilityAuthorizationDetails' });
    expect(JSON.stringify(doc.paths)).not.toMatch(/stint_task|stint_capability/);
    const { TaskAuthorizationDetail: task, CapabilityAuthorizationDetail: cap, AuthorizationDetails: all } = doc.components.schemas;
    expect(task).toMatchObject({ type: 'object', required: ['type', 'template', 'environment', 'purpose'], properties: { type: { const: 'stint_task' } } });
    expect(cap).toMatchObject({ type: 'object', required: ['type', 'actions'], properties: { type: { const: 'stint_capability' }, actions: { type: 'array' }, locations: { type: 'array' } } });
    expect(all.items.oneOf).toEqual([{ $ref: '#/components/schemas/TaskAuthorizationDetail' }, { $ref: '#/components/schemas/CapabilityAuthorizationDetail' }]);
    // What the token endpoint answers names them too.
    expect(doc.paths['/token'].post.responses['200'].content['application/json'].schema.properties.authorization_details.type).toBe('array');
  });
});
