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
});
