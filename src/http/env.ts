import type { Core } from '../core/context.js';

export interface BrokerDeps {
  core: Core;
  /** Bearer for the operator API. */
  adminToken: string;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
  /** Interval of SSE heartbeats on /v1/events, ms. */
  heartbeatMs?: number;
}

/** One typed Env for every broker route. */
export interface BrokerEnv {
  Variables: {
    deps: BrokerDeps;
  };
}
