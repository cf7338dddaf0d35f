import type { Store } from '../../core/ports.js';

/**
 * A node that cannot confirm it is current refuses what needs a decision. Every token check
 * reads the task and its revocation rows (`tasks.state`) and every issuance consumes a
 * one-time `jti` (`replay.consume`): both go through here, and fail while the node's last
 * successful read of the database is older than the fan-out allows (2 s), which the core's
 * store guard turns into 503 `temporarily_unavailable` with nothing issued. A statement that
 * does not answer within 2 s fails the same way (openPostgres's query timeout).
 */
export function requireCurrent(store: Store, clock: { current(): boolean; lag(): number }): Store {
  const check = () => {
    if (!clock.current()) throw new Error(`this node has not confirmed it is current for ${clock.lag()} ms`);
  };
  return {
    ...store,
    tasks: {
      ...store.tasks,
      state: (id, jti) => (check(), store.tasks.state(id, jti)),
    },
    replay: {
      consume: (ns, jti, exp) => (check(), store.replay.consume(ns, jti, exp)),
    },
  };
}
