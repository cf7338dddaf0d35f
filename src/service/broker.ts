import { createApprovalGateway } from '../adapters/approval-gateway.js';
import { startApprovalVoiding } from '../core/approval-voiding.js';
import { revocationHealth, startProviderRevocation } from '../core/providers/registry.js';
import type { Core } from '../core/context.js';
import { createCore, type CoreOptions } from '../core/create.js';
import { purgeRound } from '../core/purge.js';
import { flushObservations } from '../core/observations.js';
import { flushResightings } from '../core/resightings.js';
import { DEFAULT_RETENTION, retentionRound, type RetentionOptions } from '../core/retention.js';
import { startSetPush } from '../core/set.js';
import { createBrokerApp, type BrokerApp } from '../http/broker-app.js';
import type { BrokerDeps } from '../http/env.js';
import { RefusalLog } from '../http/refusal-log.js';
import type { Background, Service } from './types.js';

export interface BrokerPorts extends Omit<CoreOptions, 'approvals'>, Background {
  adminToken: string;
  /** The approval service; without it destructive capabilities cannot be had at all. */
  approval?: { url: string; fetch?: typeof fetch };
  /** How SETs are delivered (tests route them in-process), and how hard to try. */
  setPush?: { fetch?: typeof fetch; attempts?: number; retryMs?: number };
  /** How long ended tasks and audit records are kept (core/retention.ts; default 30 and 365 days). */
  retention?: Partial<RetentionOptions>;
  http?: Pick<BrokerDeps, 'heartbeatMs' | 'eventStream' | 'fanout' | 'maxBodyBytes' | 'rateLimit' | 'allowPrivateReceivers' | 'metrics' | 'requestLog' | 'peerFetch' | 'readinessChecks'>;
}

/** The broker from its ports: core, app, reactions and housekeeping, on any runtime. */
export async function createBroker(p: BrokerPorts): Promise<Service<Core, BrokerApp>> {
  const approvalUrl = p.approval?.url.replace(/\/+$/, '');
  const core = await createCore({
    ...p,
    approvals: approvalUrl ? (keys, clock, issuer) => createApprovalGateway({ url: approvalUrl, issuer, keys, clock, fetch: p.approval?.fetch }) : undefined,
  });
  // Made here rather than by the app, so that flushDue() reaches it.
  const refusalLog = new RefusalLog((r) => core.audit.append(r), () => core.clock.now());
  const app = createBrokerApp({
    core,
    refusalLog,
    adminToken: p.adminToken,
    approvalUrl,
    ...p.http,
    readinessChecks: {
      ...p.http?.readinessChecks,
      // A credential outside stint that could not be revoked: not ready until one succeeds again.
      provider_revocations: async () => {
        const h = revocationHealth(core);
        return h.failing ? { ok: false, reason: `a provider revocation failed: ${h.lastError}` } : { ok: true };
      },
    },
  });
  const log = p.log ?? console.error;
  const retention = { ...DEFAULT_RETENTION, ...p.retention };
  // A retention that cannot run (an archive that fails, a checkpoint that does not verify) deletes
  // nothing and says so, at most once a minute: the rounds go on every 100 ms.
  let lastComplaint = -Infinity;
  const retentionFailed = (e: unknown) => {
    if (core.clock.now() - lastComplaint >= 60_000) {
      lastComplaint = core.clock.now();
      log(`retention: nothing was pruned: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 0;
  };
  const stops: (() => void)[] = [];
  return {
    core,
    app,
    start() {
      if (stops.length) return;
      stops.push(startSetPush(core, { fetch: p.setPush?.fetch, attempts: p.setPush?.attempts, retryMs: p.setPush?.retryMs, track: p.track }));
      stops.push(startApprovalVoiding(core, log, p.track));
      stops.push(startProviderRevocation(core, log, p.track));
    },
    stop() {
      for (const s of stops.splice(0)) s();
    },
    drain: async () => {
      await refusalLog.flush();
      await flushResightings(core, { force: true });
      await flushObservations(core, { force: true });
    },
    flushDue: async () => {
      await refusalLog.flushDue();
      await flushResightings(core);
      await flushObservations(core);
    },
    maintenance: async () => {
      await refusalLog.flushDue();
      await flushResightings(core);
      await flushObservations(core);
      return (await purgeRound(core.store, core.clock)) + (await retentionRound(core, retention).catch(retentionFailed));
    },
  };
}
