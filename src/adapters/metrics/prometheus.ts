import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { AuditRecord } from '../../core/ports.js';
import type { Metrics } from '../../http/observability.js';

const ISSUED: Record<string, string> = { 'task.opened': 'task', 'capability.issued': 'capability', 'grant.issued': 'approval_grant', 'aws.session.issued': 'aws' };
const REFUSED = new Set(['task.denied', 'capability.denied', 'credential.refused', 'aws.sessions.denied', 'approval.agent_credential_refused']);
const APPROVAL: Record<string, string> = { 'approval.requested': 'requested', 'approval.approved': 'approved', 'approval.denied': 'denied', 'approval.expired': 'expired', 'approval.voided': 'voided' };

const scopeKind = (scope: unknown) => (typeof scope === 'string' ? (scope === 'all' ? 'all' : scope.startsWith('agent:') ? 'agent' : scope.startsWith('env:') ? 'environment' : 'other') : 'other');
const label = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,80}$/.test(v) ? v : 'other');

/**
 * Prometheus metrics (prom-client), one registry per service instance. Counters come from the
 * audit records the service writes: every token, refusal, stop, revocation and approval
 * outcome is one, so nothing is counted that was not also recorded.
 */
export function createPrometheusMetrics(o: { service: string; defaults?: boolean }): Metrics & { registry: Registry } {
  const registry = new Registry();
  registry.setDefaultLabels({ service: o.service });
  if (o.defaults !== false) collectDefaultMetrics({ register: registry });
  const tokens = new Counter({ name: 'stint_tokens_issued_total', help: 'Tokens and credentials issued, by kind', labelNames: ['kind'], registers: [registry] });
  const refusals = new Counter({ name: 'stint_refusals_total', help: 'Requests refused, by audit type and rule', labelNames: ['type', 'rule'], registers: [registry] });
  const stops = new Counter({ name: 'stint_stops_total', help: 'Tasks stopped, by rule', labelNames: ['rule'], registers: [registry] });
  const revocations = new Counter({ name: 'stint_revocations_total', help: 'Revocations, by scope (token, task, agent, environment, all)', labelNames: ['scope'], registers: [registry] });
  const approvals = new Counter({ name: 'stint_approval_outcomes_total', help: 'Approval requests and their outcomes', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'stint_http_request_duration_seconds',
    help: 'Request latency by route pattern',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // The labelled series of the per-request metrics, looked up once: prom-client hashes the label
  // object on every call otherwise. Methods, route patterns and statuses are few; bounded anyway.
  const series = new Map<string, { observe(v: number): void }>();
  const issued = new Map<string, { inc(): void }>();
  return {
    registry,
    record(r: AuditRecord) {
      const d = r.data as Record<string, unknown>;
      if (r.type in ISSUED) {
        let c = issued.get(r.type);
        if (!c) issued.set(r.type, (c = tokens.labels({ kind: ISSUED[r.type]! })));
        c.inc();
      }
      else if (REFUSED.has(r.type)) refusals.inc({ type: r.type, rule: label(d.rule ?? 'none') });
      else if (r.type === 'task.stopped') stops.inc({ rule: label(d.rule) });
      else if (r.type === 'token.revoked') revocations.inc({ scope: 'token' });
      else if (r.type === 'task.revoked') revocations.inc({ scope: 'task' });
      else if (r.type === 'scope.revoked') revocations.inc({ scope: scopeKind(d.scope) });
      else if (r.type in APPROVAL) approvals.inc({ outcome: APPROVAL[r.type]! });
    },
    request(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let h = series.get(key);
      if (!h) {
        if (series.size >= 1000) series.clear();
        series.set(key, (h = latency.labels({ method, route, status: String(status) })));
      }
      h.observe(seconds);
    },
    async render() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
