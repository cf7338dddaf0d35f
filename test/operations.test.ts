import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { RequestLogLine } from '../src/http/observability.js';
import { ADMIN, testBroker } from './helpers/broker.js';

const metricsOf = async (b: Awaited<ReturnType<typeof testBroker>>) => {
  const res = await b.admin('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = parsePrometheus(text);
  return (name: string, labels: Record<string, string> = {}) => {
    if (families.find((m) => m.name === name)?.type === 'HISTOGRAM') {
      // (the parser keeps buckets but not labels of histograms: read their _count series)
      return text
        .split('\n')
        .filter((l) => l.startsWith(`${name}_count{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    }
    const f = families.find((m) => m.name === name);
    if (!f) return undefined;
    const s = f.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    return s.reduce((n, m) => n + Number(m.value ?? m.count ?? 0), 0);
  };
};

describe('operations: health, readiness, metrics, request logs', () => {
  it('/healthz and /readyz answer; /metrics needs the operator bearer', async () => {
    const b = await testBroker();
    expect(await (await b.request('/healthz')).json()).toEqual({ ok: true });
    const ready = await b.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, status: 'ok', checks: { store: 'ok', policy: 'ok', provider_revocations: 'ok' } });
    const anon = await b.request('/metrics');
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: string }).error).toBe('unauthorized');
  });

  it('/readyz is ready but degraded when the approval service is unreachable; ordinary work goes on, destructive requests get 503 with Retry-After', async () => {
    const b = await testBroker({ approvalUrl: 'http://approvals.invalid', approvalFetch: async () => new Response('down', { status: 503 }) });
    const res = await b.request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ready: boolean; status: string; checks: Record<string, string> };
    expect(body).toMatchObject({ ready: true, status: 'degraded' });
    expect(body.checks.approvals).toMatch(/answered 503/);
    expect(body.checks.store).toBe('ok');

    const agent = await b.registerAgent({ name: 'ops-bot', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    expect(t.status).toBe(200);
    expect((await agent.exchange(t.body.access_token, { scope: 'db.read' })).status).toBe(200);
    const destructive = await agent.exchange(t.body.access_token, { scope: 'volume.delete' });
    expect(destructive.status).toBe(503);
    expect(destructive.body.error).toBe('temporarily_unavailable');
    expect(destructive.headers?.get('Retry-After')).toBe('5');
    await b.close();
  });

  it('/readyz is unavailable (503 with Retry-After) when a check that is not degrading fails', async () => {
    const { readiness, degrading } = await import('../src/http/observability.js');
    const ok = async () => ({ ok: true as const });
    const down = async () => ({ ok: false as const, reason: 'down' });
    expect(await readiness({ a: ok, b: degrading(down) })).toEqual({ ready: true, status: 'degraded', checks: { a: 'ok', b: 'down' } });
    expect(await readiness({ a: down, b: degrading(ok) })).toEqual({ ready: false, status: 'unavailable', checks: { a: 'down', b: 'ok' } });
    expect(await readiness({ a: ok })).toEqual({ ready: true, status: 'ok', checks: { a: 'ok' } });
  });

  it('/readyz is not ready when the store is read-only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stint-ro-'));
    const dbPath = join(dir, 'stint.db');
    const b = await testBroker({ dbPath });
    expect((await b.request('/readyz')).status).toBe(200);
    // The same file opened read-only by SQLite: writes fail as on a read-only volume.
    b.sqlite.pragma('query_only = ON');
    const res = await b.request('/readyz');
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(((await res.json()) as { checks: Record<string, string> }).checks.store).not.toBe('ok');
    b.sqlite.pragma('query_only = OFF');
    chmodSync(dbPath, 0o600);
    await b.close();
  });

  it('/readyz says why when the store cannot make its writes durable; the answers that rest on writes become 503', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const flush = b.core.store.flush;
    b.core.store.flush = () => Promise.reject(new Error('the WAL could not be flushed'));
    // Not a bare 503 from the durable-response wrapper: readiness with its checks.
    const res = await b.request('/readyz');
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('unavailable');
    expect(body.checks.store).toMatch(/WAL could not be flushed/);
    expect(body.checks.policy).toBe('ok');
    // A token would rest on writes that are not durable: refused, nothing issued.
    const task = await agent.openTask();
    expect(task.status).toBe(503);
    expect(task.body.error).toBe('temporarily_unavailable');
    expect(task.body.access_token).toBeUndefined();
    b.core.store.flush = flush;
    expect((await b.request('/readyz')).status).toBe(200);
    await b.close();
  });

  it('counts tokens, refusals and stops by rule, revocations; latency per route; logs carry no token or secret', async () => {
    const lines: RequestLogLine[] = [];
    const b = await testBroker({ requestLog: (l) => lines.push(l) });
    const agent = await b.registerAgent();
    const resource = (await (await b.admin('/v1/resources', { name: 'db-api', audience: 'https://db.example' })).json()) as { client_id: string; client_secret: string };
    const task = await agent.openTask();
    expect(task.status).toBe(200);
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(cap.status).toBe(200);
    expect((await b.introspect(cap.body.access_token)).active).toBe(true);
    // The resource service authenticates (HTTP Basic) to report a signal.
    const basic = `Basic ${btoa(`${resource.client_id}:${resource.client_secret}`)}`;
    const signal = await b.request('/v1/signals', { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'tool_error', task_id: task.body.task_id ?? undefined, detail: 'boom' }) });
    expect(signal.status).toBeLessThan(500);
    const stopped = await agent.exchange(task.body.access_token, { scope: 'volume.delete' });
    expect(stopped.body.error).toBe('invalid_authorization_details');
    expect((await b.admin('/v1/revocations', { agent: agent.clientId })).status).toBe(200);
    expect((await b.request('/no/such/route')).status).toBe(404);

    const m = await metricsOf(b);
    expect(m('stint_tokens_issued_total', { kind: 'task' })).toBe(1);
    expect(m('stint_tokens_issued_total', { kind: 'capability' })).toBe(1);
    expect(m('stint_refusals_total', { type: 'capability.denied' })).toBe(1);
    expect(m('stint_stops_total', { rule: 'destructive_outside_ceiling' })).toBe(1);
    // The stop locks the agent (its scope's epoch), then the operator revokes it: two.
    expect(m('stint_revocations_total', { scope: 'agent' })).toBe(2);
    expect(m('stint_http_request_duration_seconds', { route: '/token', method: 'POST' })).toBe(3);
    expect(m('stint_http_request_duration_seconds', { route: '/v1/agents', method: 'POST', status: '201' })).toBe(1);
    expect(m('stint_http_request_duration_seconds', { route: 'unmatched' })).toBe(1);

    // One line per request, with a request id; route patterns, never raw paths or tokens.
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['duration_ms', 'method', 'request_id', 'route', 'status']);
      expect(l.request_id).toMatch(/^[A-Za-z0-9._-]{8,}$/);
    }
    expect(lines.find((l) => l.route === '/token' && l.status === 200)).toBeTruthy();
    const logged = JSON.stringify(lines);
    for (const secret of [ADMIN, resource.client_secret, task.body.access_token, cap.body.access_token, btoa(String.fromCharCode(...new Uint8Array(32).fill(1)))]) {
      expect(logged).not.toContain(secret);
    }
  });

  it('answers with the request id it was given, or a new one', async () => {
    const b = await testBroker();
    expect((await b.request('/healthz', { headers: { 'X-Request-Id': 'req-from-proxy-123' } })).headers.get('X-Request-Id')).toBe('req-from-proxy-123');
    expect((await b.request('/healthz', { headers: { 'X-Request-Id': 'bad id\u0007' } })).headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
