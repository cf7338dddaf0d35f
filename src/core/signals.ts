import type { Core } from './context.js';
import { StintError } from './errors.js';
import { classifyEnvironment } from './environments.js';
import type { ResourceRecord } from './ports.js';
import { normalizeHtu, verifyDpopProof } from './dpop.js';
import { onPresentation } from './presentation.js';
import { currentTask } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';
import { record } from './trajectory.js';

export type SignalType = 'credential_substitution' | 'environment_mismatch' | 'tool_error';

export interface Signal {
  type: SignalType;
  token?: string;
  /** The DPoP proof exactly as the service received it, and the request it came with. */
  dpop?: string;
  htm?: string;
  htu?: string;
  task_id?: string;
  detail?: string;
}

export type SignalCaller =
  | { kind: 'operator' }
  | { kind: 'resource'; resource: ResourceRecord }
  /** An agent's harness, authenticated by the task token of the task it reports on. */
  | { kind: 'agent'; claims: StintClaims };

export interface SignalOutcome {
  accepted: true;
  stopped_tasks: string[];
  revoked_tokens: string[];
}

const actorOf = (c: SignalCaller) => (c.kind === 'operator' ? 'operator' : c.kind === 'resource' ? c.resource.id : c.claims.sub);

async function ourToken(core: Core, token: string | undefined): Promise<StintClaims | undefined> {
  if (!token) return undefined;
  return verifyStintToken(core, token, { allowExpired: true }).catch(() => undefined);
}

/** Whether `htu` names a URL at or under the service's registered audience. */
function onAudience(htu: string, audience: string): boolean {
  const a = normalizeHtu(audience);
  const h = normalizeHtu(htu);
  if (!a || !h) return false;
  const base = a.endsWith('/') ? a : `${a}/`;
  return h === a || h.startsWith(base);
}

/**
 * The key a resource service's report proves: the DPoP proof exactly as the service received
 * it, checked here (signature, `htm`, `htu`, `ath` over the token, `iat`) with `htu` on the
 * service's own audience. Undefined when the report carries no proof that verifies: such a
 * report is not evidence against anyone.
 */
async function provenKey(core: Core, caller: SignalCaller, s: Signal): Promise<string | undefined> {
  if (!s.dpop || !s.htm || !s.htu || !s.token) return undefined;
  if (caller.kind === 'resource' && !onAudience(s.htu, caller.resource.audience)) return undefined;
  try {
    const { jkt } = await verifyDpopProof({
      proof: s.dpop,
      method: s.htm,
      urls: [s.htu],
      accessToken: s.token,
      now: core.clock.now(),
      // Its own namespace: the service consumed the proof already; two reports of one proof count once.
      replay: { consume: (ns, jti, exp) => core.store.replay.consume(`report:${ns}`, jti, exp) },
    });
    return jkt;
  } catch {
    return undefined;
  }
}

/**
 * Signals from resource services and harnesses (POST /v1/signals). A report of substitution
 * or environment mismatch is evidence, not an accusation: it goes through the presentation
 * rules with the key its proof proves, so a report without a verifiable proof changes no
 * task (the token it names has leaked, and is revoked). Tool errors are recorded and count as
 * "recent failures" for the rules that look back.
 */
export async function reportSignal(core: Core, caller: SignalCaller, s: Signal): Promise<SignalOutcome> {
  const actor = actorOf(caller);
  const out: SignalOutcome = { accepted: true, stopped_tasks: [], revoked_tokens: [] };
  const detail = s.detail ?? '';

  if (s.type === 'tool_error') {
    const taskId = caller.kind === 'agent' ? caller.claims.task_id : s.task_id ?? (await ourToken(core, s.token))?.task_id;
    if (!taskId) throw new StintError('invalid_request', 'tool_error needs task_id or token');
    if (caller.kind === 'agent' && s.task_id !== undefined && s.task_id !== taskId) throw new StintError('forbidden', 'a harness reports on its own task only');
    const task = await currentTask(core, taskId);
    if (!task) throw new StintError('not_found', 'no such task');
    await record(core, { taskId, kind: 'signal', type: 'signal.tool_error', actor, detail: { signal: 'tool_error', detail } });
    return out;
  }

  if (caller.kind === 'agent') throw new StintError('forbidden', `${s.type} is reported by resource services or the operator`);
  if (!s.token) throw new StintError('invalid_request', `${s.type} needs the token that was presented`);
  const where = caller.kind === 'resource' ? caller.resource.audience : 'a service the operator names';
  // The environment the service serves, told as everywhere else (policy `hosts`, resource URIs).
  const served = caller.kind === 'resource' ? classifyEnvironment(core.policy, caller.resource.audience) : undefined;
  if (s.type === 'environment_mismatch' && caller.kind === 'resource' && served!.environment === undefined) {
    // Such a service cannot tell a mismatch: refused, not accepted and ignored.
    const why = served!.candidates.length
      ? `its audience ${caller.resource.audience} is claimed by several environments (${served!.candidates.join(', ')})`
      : `its audience ${caller.resource.audience} is on no environment's hosts and under no capability's resource`;
    throw new StintError('invalid_request', `this resource service cannot report environment_mismatch: ${why}`);
  }
  const seen = await onPresentation(core, {
    token: s.token,
    jkt: await provenKey(core, caller, s),
    where,
    servedEnvironment: served?.environment,
    actor,
    denial: { type: `signal.${s.type}`, kind: 'signal' },
    detail: { signal: s.type, detail },
  });
  out.stopped_tasks.push(...seen.enforced.stopped);
  if (seen.revoked) out.revoked_tokens.push(seen.revoked);
  return out;
}
