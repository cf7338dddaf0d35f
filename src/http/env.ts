import type { Core } from '../core/context.js';
import type { EventFanout } from '../core/events.js';
import type { StintClaims } from '../core/tokens.js';
import type { BrokerLimitOptions, BrokerLimits } from './rate-limit.js';
import type { RefusalLog } from './refusal-log.js';
import type { Metrics, ReadinessChecks, RequestLogger } from './observability.js';

export interface BrokerDeps {
  core: Core;
  /** Bearer for the operator API. */
  adminToken: string;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
  /** Interval of SSE heartbeats on /v1/events, ms. */
  heartbeatMs?: number;
  /** The approval service's URL (the `iss` of its internal calls), if one is configured. */
  approvalUrl?: string;
  /** Serves /v1/events from a hub shared by every instance (Workers: a Durable Object). */
  /** `environment`: a resource service's, whose stream carries only the events that concern it. */
  eventStream?: (lastEventId: number | undefined, client: string, environment?: string) => Promise<Response>;
  /** Where this process's streams hear every node's events (several nodes on PostgreSQL); default: the core's own hub. */
  fanout?: EventFanout;
  /** Lets SET receivers be registered on loopback or private addresses (default: refused). */
  allowPrivateReceivers?: boolean;
  /** Event streams one client may hold open at once (default MAX_STREAMS_PER_CLIENT). */
  maxStreamsPerClient?: number;
  /** Event stream set-ups in progress at once and waiting (stream-admission.ts; default STREAM_SETUPS_AT_ONCE, MAX_WAITING_SETUPS). */
  streamSetups?: { atOnce?: number; maxWaiting?: number };
  /** Limits per address (failures before authentication), per client and per task (rate-limit.ts); `false` turns them off (default: DEFAULT_RATE_LIMIT). */
  rateLimit?: BrokerLimitOptions | false;
  /** Built by the app from `rateLimit`. */
  limits?: BrokerLimits;
  /** Where refusals that precede client authentication are counted (built by the app if absent). */
  refusalLog?: RefusalLog;
  /** Prometheus counters and latency histograms (default: none collected). */
  metrics?: Metrics;
  /** One JSON line per request. */
  requestLog?: RequestLogger;
  /** Readiness checks besides the store, the policy and the approval service. */
  readinessChecks?: ReadinessChecks;
  /** How /readyz reaches the approval service (tests route it in-process). */
  peerFetch?: typeof fetch;
}

/** One typed Env for every broker route. */
export interface BrokerEnv {
  Variables: {
    deps: BrokerDeps;
    /** Set by the route's authentication middleware (auth.ts). */
    caller?: 'operator' | 'agent';
    /** The task token's claims, when an agent called with one. */
    agent?: StintClaims;
    /** The client that authenticated in this request (an agent, a resource service): its failures are not the address's. */
    client?: string;
  };
}
