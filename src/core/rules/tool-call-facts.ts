import type { Risk } from '../policy.js';
import type { ClassifiedAction, SeenCredential } from '../tool-call.js';

/** One destructive (or other) action of a call, as the broker derived it from the call it was shown. */
export interface ToolCallAction extends ClassifiedAction {
  /** Environment resolved: unknown → the most protected; `local` for this machine. */
  environment: string;
  risk: Risk;
  /** The normalised action, what an approval is for (a digest of capability, environment, what). */
  key: string;
}

/**
 * The facts of trigger `tool_call.pre`, gathered once by core/decide.ts: every rule of the
 * trigger is a pure function of them (a table test needs no database).
 */
export interface ToolCallRuleFacts {
  /** Credentials the call uses that are not the task's own. */
  credentials: SeenCredential[];
  /** Credentials the call would show the agent. */
  exposed: SeenCredential[];
  /** Why the call cannot be read in full, if it cannot. */
  uncertain?: string;
  actions: ToolCallAction[];
  task: { environment: string; ceiling: string[] };
  recentFailures: number;
  maxRecentFailures: number;
  /** Keys of the actions approved and not yet spent (each allows its one action once). */
  approved: string[];
}
