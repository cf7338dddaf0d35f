import type { Core } from './context.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { enforce, type Enforced, type EnforceTarget } from './rules/enforce.js';
import type { PresentationFacts } from './rules/facts.js';
import { evaluate } from './rules/registry.js';
import { revokeLeaked } from './substitution.js';
import { currentTask } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';

/** A credential (a stint token, or something that claims to be one) shown somewhere. */
export interface Presentation {
  token: string | undefined;
  /** The key the presenter proved with a verified DPoP proof; none for Bearer or no proof. */
  jkt?: string;
  /** The authenticated agent that presented it, when there is one (at the broker). */
  presenter?: AgentRecord;
  /** Where, in words (for reasons and records). */
  where: string;
  servedEnvironment?: string;
  forbiddenPlace?: boolean;
  /** Who tells us (the agent itself, a resource service, the approval service, the operator). */
  actor: string;
  /** The trajectory entry a refusal leaves. */
  denial: EnforceTarget['denial'];
  detail?: Record<string, unknown>;
}

export interface PresentationOutcome {
  /** The token's claims when the broker issued it (expired ones included: ownership before expiry). */
  claims?: StintClaims;
  enforced: Enforced;
  target: EnforceTarget;
  /** The `jti` revoked because the token left its owner's hands. */
  revoked?: string;
}

async function ourToken(core: Core, token: string | undefined): Promise<StintClaims | undefined> {
  if (!token) return undefined;
  return verifyStintToken(core, token, { allowExpired: true }).catch(() => undefined);
}

/**
 * Every sighting of a credential goes through here, whoever saw it: the broker (a subject
 * token, a task route, `/revoke`), a resource service's report, the approval service. Who
 * proved which key decides (CONTRACT.md, "Stop events, precisely"): a token shown without
 * proof of its own key has leaked and is revoked; a presenter that proved a key of its own is
 * judged by the rules of the `presentation` trigger (substitution, environment mismatch), and
 * `enforce()` carries out the verdict.
 */
export async function onPresentation(core: Core, p: Presentation): Promise<PresentationOutcome> {
  const claims = await ourToken(core, p.token);
  const ownKey = claims !== undefined && p.jkt === claims.cnf.jkt && (!p.presenter || p.presenter.id === claims.sub);
  const facts: PresentationFacts = {
    ours: claims !== undefined,
    owner: claims && { agentId: claims.sub, jkt: claims.cnf.jkt, environment: claims.env, taskId: claims.task_id },
    presenter: p.presenter && { agentId: p.presenter.id },
    proof: p.jkt === undefined ? 'none' : ownKey ? 'own_key' : 'other_key',
    where: p.where,
    servedEnvironment: p.servedEnvironment,
    forbiddenPlace: p.forbiddenPlace,
  };
  const detail = { ...p.detail, presented_jkt: p.jkt, leaked_jti: claims?.jti, leaked_task: claims?.task_id, leaked_agent: claims?.sub, leaked_environment: claims?.env };
  const decision = evaluate(core.rules, 'presentation', facts, core.policy);

  const tasks: TaskRecord[] = [];
  const agentIds: string[] = [];
  if (decision.kind !== 'allow') {
    if (facts.proof === 'other_key') {
      // The presenter proved a key of its own: the tasks bound to that key are the ones caught.
      tasks.push(...(await core.store.tasks.activeByKey(p.jkt!, p.presenter?.id)));
      // The agent's own token under another key: that task's credential is out of its hands too.
      if (claims && p.presenter?.id === claims.sub && !tasks.some((t) => t.id === claims.task_id)) {
        const own = await currentTask(core, claims.task_id);
        if (own?.status === 'active') tasks.push(own);
      }
      agentIds.push(...(p.presenter ? [p.presenter.id] : tasks.map((t) => t.agentId)));
    } else if (claims) {
      const own = await currentTask(core, claims.task_id);
      if (own?.status === 'active') tasks.push(own);
      agentIds.push(claims.sub);
    }
  }
  const target: EnforceTarget = { tasks, agentIds, actor: p.actor, denial: p.denial, detail };
  // The stop first (a presenter's own task is stopped, not merely revoked), then the leak.
  const enforced = await enforce(core, decision, target);
  let revoked: string | undefined;
  if (claims && !ownKey) {
    await revokeLeaked(core, claims, p.actor, decision.kind === 'allow' ? `shown to ${p.where} without proof of its key` : decision.why);
    revoked = claims.jti;
  }
  return { claims, enforced, target, revoked };
}
