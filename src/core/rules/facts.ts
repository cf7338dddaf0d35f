import type { Policy, Risk } from '../policy.js';
import type { TaskRecord } from '../ports.js';

/**
 * The facts each trigger's rules read. They are gathered by the core before evaluation (one
 * read of the task's recent history, the policy, the request), so that every rule is a pure
 * function of them.
 */

/** A task asks for capabilities (token exchange, or an approval for a destructive one). */
export interface CapabilityFacts {
  policy: Policy;
  task: TaskRecord;
  capabilities: string[];
  /** The highest risk among them. */
  risk: Risk;
  /** The environment of the resource asked for (the task's own when none was named). */
  environment: string;
  /** Refusals of the agent within the window, with the risk each was for. */
  recentDenials: { risk?: Risk }[];
  /** Refusals and tool errors within the window ("low confidence"). */
  recentFailures: number;
}

/**
 * A stint credential was presented somewhere. `proof` says what the presenter proved: the
 * token's own key, another key of its own, or nothing at all (Bearer, no DPoP proof).
 */
export interface PresentationFacts {
  /** Whether the broker issued the credential (signature and issuer check out). */
  ours: boolean;
  /** Whom the token was issued to; undefined if not ours. */
  owner?: { agentId: string; jkt: string; environment: string; taskId: string };
  /** Who presented it, when known (an authenticated agent). */
  presenter?: { agentId: string };
  proof: 'own_key' | 'other_key' | 'none';
  /** Where it was presented, in words, for the reason. */
  where: string;
  /** The environment the place it was presented at serves, when one can be told. */
  servedEnvironment?: string;
  /** A place no agent credential belongs (the approval service): even its own key is a stop there. */
  forbiddenPlace?: boolean;
}
