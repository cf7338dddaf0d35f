import { Hono, type Context } from 'hono';
import { StintError } from '../../core/errors.js';
import { eventsFor, longestTokenLifetime, seqBefore } from '../../core/events.js';
import { environmentServedBy } from '../../core/environments.js';
import { basicResource, dpopBoundToken, isOperator } from '../auth.js';
import type { VerifierEvent } from '../../core/events.js';
import type { BrokerEnv } from '../env.js';
import { HEARTBEAT_MS, lastEventIdOf, serveEventStream } from '../event-stream.js';
import { MAX_STREAMS_PER_CLIENT, StreamSlots } from '../stream-slots.js';
import { StreamAdmission, type ClientWatchSource, type WatchClient } from '../stream-admission.js';

export { HEARTBEAT_MS } from '../event-stream.js';
export { MAX_STREAMS_PER_CLIENT } from '../stream-slots.js';

const slotsOf = new WeakMap<object, StreamSlots>();
const admissionOf = new WeakMap<object, StreamAdmission>();

/**
 * Where `?from=recent` starts, shared for a second: after a broker restart every verifier
 * reconnects at once, and a bisection of the log each (a dozen statements) for 200 of them
 * held the broker's thread for most of a second. A start found up to a second ago is one that
 * is a little earlier than now's: the stream sends a few more old events, never fewer.
 */
const recentStart = new WeakMap<object, { at: number; seq: number }>();
async function recentStartOf(deps: object, core: { store: Parameters<typeof seqBefore>[0]; clock: { now(): number }; policy: Parameters<typeof longestTokenLifetime>[0] }): Promise<number> {
  const now = core.clock.now();
  const cached = recentStart.get(deps);
  if (cached && now >= cached.at && now - cached.at < 1000) return cached.seq;
  const seq = await seqBefore(core.store, now - longestTokenLifetime(core.policy) * 1000);
  recentStart.set(deps, { at: now, seq });
  return seq;
}

/**
 * GET /v1/events for resource services (HTTP Basic) and the operator. Where the runtime has a
 * shared hub (Workers: a Durable Object), the stream is served there, so that an event raised in
 * any isolate reaches every subscriber; otherwise from this process's hub.
 *
 * `?from=recent` (what a fresh verifier asks for) starts at the first record younger than the
 * longest token lifetime: anything older concerns only tokens that have expired, and replaying
 * the whole history would grow with the log. `Last-Event-ID` resumes after an id; neither
 * starts from now.
 */
export const eventRoutes = new Hono<BrokerEnv>().get('/v1/events', async (c) => {
  const deps = c.get('deps');
  const admission = deps.eventStream ? undefined : admissionFor(deps);
  const arrived = admission?.arrive();
  if (arrived === 'full') throw new StintError('temporarily_unavailable', 'too many event stream requests are waiting; retry after the indicated delay', { retryAfter: 1 + Math.floor(Math.random() * 5) });
  if (arrived) await arrived;
  // A task's own agent (its DPoP-bound task token: the `stint run` supervisor) follows its task:
  // the events of that task, and the bare type of every event that names no task (a lock, a wider
  // revocation), after which it asks for its task's status.
  let view: ((e: VerifierEvent) => VerifierEvent | undefined) | undefined;
  let served: string | undefined;
  let client: string | undefined;
  let audience: string | undefined;
  if (/^dpop /i.test(c.req.header('Authorization') ?? '')) {
    const claims = await dpopBoundToken(c);
    if (c.get('deps').eventStream) throw new StintError('invalid_request', "a task's event stream is served by the Node runtime only");
    client = `task:${claims.task_id}`;
    view = (e) => (e.task_id === claims.task_id ? e : e.task_id === null ? { id: e.id, type: e.type, at: e.at, task_id: null } : undefined);
  } else if (await isOperator(c)) client = 'operator';
  else {
    const resource = await basicResource(c);
    client = resource?.id;
    audience = resource?.audience;
  }
  if (!client) throw new StintError('unauthorized', 'events are for resource services (HTTP Basic), the operator, and a task\'s own agent (DPoP)');
  let last = lastEventIdOf(c);
  if (last === 'invalid') throw new StintError('invalid_request', 'Last-Event-ID must be an event id');
  const { core } = deps;
  const recent = last === undefined && c.req.query('from') === 'recent';
  const servedView = () => {
    if (audience === undefined) return;
    // a resource service hears its environment's events and those naming none (core/events.ts)
    served = environmentServedBy(core.policy, audience);
    const concerns = eventsFor(served);
    view = (e) => (concerns(e) ? e : undefined);
  };
  if (deps.eventStream) {
    servedView();
    if (recent) last = await recentStartOf(deps, core);
    // Served (and the client's streams counted) by the shared hub: on Workers, the Durable Object.
    const res = await deps.eventStream(last, client, served);
    if (res.status === 429) throw new StintError('too_many_requests', (await res.text()) || 'this client holds too many event streams; close one first');
    return res;
  }

  let slots = slotsOf.get(deps);
  if (!slots) slotsOf.set(deps, (slots = new StreamSlots(deps.maxStreamsPerClient ?? MAX_STREAMS_PER_CLIENT)));
  const release = slots.take(client);
  if (!release) throw new StintError('too_many_requests', `this client already holds ${slots.held(client)} event streams; close one first`);
  const turn = await admission!.admit(watchClientOf(c));
  if (turn === undefined) {
    release(); // gone while waiting: it held its slot and its place in the line, nothing else
    return c.body(null, 503);
  }
  if (turn === 'full') {
    release();
    // Retry-After spread over a few seconds, so that the refused do not all come back at once.
    throw new StintError('temporarily_unavailable', 'too many event streams are being set up; retry after the indicated delay', { retryAfter: 1 + Math.floor(Math.random() * 5) });
  }
  const admitted = turn;
  try {
    servedView();
    if (recent) last = await recentStartOf(deps, core);
    return serveEventStream(c, { hub: deps.fanout ?? core.events, store: core.store, clock: core.clock, lastEventId: last, heartbeatMs: heartbeatOf(c, deps.heartbeatMs), onOpen: admitted, onClose: release, view });
  } catch (e) {
    admitted();
    release();
    throw e;
  }
});

function admissionFor(deps: object & { streamSetups?: { atOnce?: number; maxWaiting?: number } }): StreamAdmission {
  let admission = admissionOf.get(deps);
  if (!admission) admissionOf.set(deps, (admission = new StreamAdmission(deps.streamSetups?.atOnce, deps.streamSetups?.maxWaiting)));
  return admission;
}

/**
 * Tells when the client goes away while its set-up waits: the runtime's own way where it has
 * one (Node: the response's `close`), else the request's signal (on Node, reading that builds
 * the whole Fetch request, a tenth of a millisecond per waiting stream).
 */
function watchClientOf(c: Context<BrokerEnv>): WatchClient {
  const own = (c.env as ClientWatchSource | undefined)?.watchClient;
  if (own) return own;
  return (onGone) => {
    const signal = c.req.raw.signal;
    if (signal.aborted) {
      onGone();
      return () => undefined;
    }
    signal.addEventListener('abort', onGone, { once: true });
    return () => signal.removeEventListener('abort', onGone);
  };
}

/**
 * `?heartbeat_ms=` asks for heartbeats more often than the broker's own interval (never less
 * often; at least every 250 ms): `stint run`'s proxy must tell a silent broker from an idle one
 * within 5 s, which a 5 s heartbeat cannot give.
 */
function heartbeatOf(c: Context<BrokerEnv>, configured: number | undefined): number | undefined {
  const asked = Number(c.req.query('heartbeat_ms'));
  if (!Number.isInteger(asked) || asked <= 0) return configured;
  return Math.min(configured ?? HEARTBEAT_MS, Math.max(250, asked));
}
