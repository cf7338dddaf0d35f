import type { Core } from './context.js';
import { StintError } from './errors.js';
import { environmentOfResource } from './policy.js';
import type { ResourceRecord } from './ports.js';
import { lockAgent, stopTask } from './stop.js';
import { revokeLeaked } from './substitution.js';
import { currentTask } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';
import { record } from './trajectory.js';

export type SignalType = 'credential_substitution' | 'environment_mismatch' | 'tool_error';

export interface Signal {
  type: SignalType;
  token?: string;
  presented_jkt?: string;
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
  try {
    return await verifyStintToken(core, token, { allowExpired: true });
  } catch {
    return undefined;
  }
}

/**
 * Signals from resource services and harnesses (POST /v1/signals). Substitution and
 * environment mismatch are stop events; tool errors are recorded and count as "recent
 * failures" for the rules that look back.
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
  const claims = await ourToken(core, s.token);

  if (s.type === 'credential_substitution') {
    if (!s.presented_jkt) throw new StintError('invalid_request', 'credential_substitution needs presented_jkt, the thumbprint of the key the token came with');
    if (claims && claims.cnf.jkt === s.presented_jkt) throw new StintError('invalid_request', 'the token was presented with the key it is bound to: that is not substitution');
    const why = claims ? `presented ${claims.sub}'s ${claims.env} token (task ${claims.task_id}) to ${actor}` : `presented a credential the broker never issued to ${actor}`;
    if (claims) {
      await revokeLeaked(core, claims, actor, why);
      out.revoked_tokens.push(claims.jti);
    }
    const presenters = await core.store.tasks.activeByKey(s.presented_jkt);
    for (const t of presenters) {
      if (core.policy.trajectory.rules.substitution === 'refuse') {
        await record(core, { taskId: t.id, kind: 'signal', type: 'signal.credential_substitution', actor, detail: { signal: s.type, reason: why, detail } });
        continue;
      }
      await stopTask(core, t, 'substitution', why, { actor, lockAgent: false, detail: { signal: s.type, presented_jkt: s.presented_jkt, leaked_jti: claims?.jti, detail } });
      await lockAgent(core, t.agentId, `credential substitution: ${why}`, actor);
      out.stopped_tasks.push(t.id);
    }
    if (presenters.length === 0) await core.audit.append({ type: 'credential.substitution', actor, data: { reason: why, presented_jkt: s.presented_jkt, leaked_jti: claims?.jti ?? null } });
    return out;
  }

  // environment_mismatch: a token of one environment presented to a service of another.
  if (!claims) throw new StintError('invalid_request', 'environment_mismatch needs a token this broker issued');
  if (caller.kind === 'resource') {
    const served = environmentOfResource(core.policy, caller.resource.audience);
    if (served !== undefined && served === claims.env) throw new StintError('invalid_request', `the token is for ${claims.env}, which this service serves`);
  }
  const task = await currentTask(core, claims.task_id);
  const why = `a ${claims.env} token was presented to ${caller.kind === 'resource' ? caller.resource.audience : 'another environment'}`;
  if (task?.status === 'active') {
    if (core.policy.trajectory.rules.environment_mismatch === 'stop') {
      await stopTask(core, task, 'environment_mismatch', why, { actor, lockAgent: false, detail: { signal: s.type, jti: claims.jti, detail } });
      out.stopped_tasks.push(task.id);
    } else {
      await record(core, { taskId: task.id, kind: 'signal', type: 'signal.environment_mismatch', actor, detail: { signal: s.type, reason: why, detail } });
    }
  }
  return out;
}
