/**
 * The compiled policy the core works from. Parsing and validating the YAML files is done by
 * `src/policy/`; the core only reads this shape.
 */
export type Risk = 'read' | 'write' | 'destructive';
export const RISK_ORDER: Record<Risk, number> = { read: 0, write: 1, destructive: 2 };

export interface EnvironmentPolicy {
  name: string;
  /**
   * A two-person rule for destructive actions here (approval quorum ≥ 2, never the owner),
   * checked when the policy is loaded; the guard counts an action whose environment it cannot
   * tell as happening in the most protected one.
   */
  protected: boolean;
  /** Cap on a capability token's lifetime, seconds. */
  maxTokenTtl: number;
  /** Hard lifetime of a task (and its task token), seconds. */
  taskTtl: number;
  /** Host names of this environment (`*.staging.example` for any subdomain). */
  hosts: string[];
}

export type SqlStatementKind = 'drop_database' | 'drop_table' | 'truncate' | 'delete_without_where' | 'update_without_where' | 'drop_schema';

/** Maps a call seen on the tool-call path to a capability (see src/core/actions.ts). */
export interface ActionMatcher {
  capability: string;
  description?: string;
  http?: { methods: string[]; path: string; hosts?: string[] };
  graphql?: { hosts?: string[]; mutations: string[] };
  sql?: { statements: SqlStatementKind[] };
  command?: { argv: string[]; flags?: string[] };
  /** An MCP server's tool (`*` for any); the environment it acts on, if the policy knows it. */
  mcp?: { server: string; tool: string; environment?: string };
  /** `shadow`: what this matcher classifies is decided in shadow mode (recorded, allowed). */
  mode?: Mode;
}

export interface CapabilityPolicy {
  name: string;
  risk: Risk;
  description?: string;
  /** environment name → resource URI (the token's audience; for AWS, the role ARN). */
  resources: Record<string, string>;
  provider?: ProviderPolicy;
}

/**
 * A capability that is a real credential of another system: `type` names its provider
 * (core/providers/), which reads the rest of the block; each provider's schema is in
 * src/policy/providers.ts.
 */
export interface ProviderPolicy {
  type: string;
  [setting: string]: unknown;
}

export interface TemplatePolicy {
  name: string;
  description?: string;
  environments: string[];
  ceiling: string[];
  taskTtl?: number;
}

export interface GrantPolicy {
  /** Agent names or client ids; `*` for every agent. */
  agents: string[];
  templates: string[];
}

export interface ApprovalPolicy {
  environment: string;
  quorum: number;
  groups: string[];
  allowOwner: boolean;
  ttl: number;
}

export type RuleAction = 'stop' | 'refuse';
/**
 * `shadow`: on the tool-call path, a decision is recorded as `would_block` / `would_stop` on the
 * trajectory and in the audit log, and the call is allowed (core/shadow.ts).
 */
export type Mode = 'enforce' | 'shadow';
export interface RuleSetting {
  /** Unset for a rule that only refuses (its only setting is `mode`). */
  action?: RuleAction;
  lockAgent?: boolean;
  mode?: Mode;
}

export interface TrajectoryPolicy {
  /** Look-back for "recent" refusals and tool errors, seconds. */
  window: number;
  /** A destructive request is refused outright at this many recent refusals or tool errors. */
  maxRecentFailures: number;
  /**
   * What each stopping rule of the registry (core/rules/registry.ts) does: stop, or only
   * refuse; and whether its stop locks the agent (the rule's own default when unset).
   */
  rules: Record<string, RuleSetting>;
}

export interface Policy {
  environments: Record<string, EnvironmentPolicy>;
  capabilities: Record<string, CapabilityPolicy>;
  templates: Record<string, TemplatePolicy>;
  grants: GrantPolicy[];
  approvals: ApprovalPolicy[];
  trajectory: TrajectoryPolicy;
  /** What `stint run`'s egress proxy tunnels (`allow`) and reads (`inspect`); absent: nothing extra. */
  egress?: { allow: string[]; inspect: string[] };
  /** The tool-call path's action matchers, in file order. */
  actions: ActionMatcher[];
  /** Environment `local`: this machine (localhost, workspace files) plus these hosts. */
  local?: { hosts: string[] };
  /** `shadow`: every tool-call decision is recorded as would_block / would_stop, and the call allowed. */
  mode?: Mode;
}

/** Templates an agent may open: those named at registration plus those policy grants it. */
export function templatesFor(policy: Policy, agent: { id: string; name: string; templates: string[] }): Set<string> {
  const out = new Set(agent.templates.filter((t) => t in policy.templates));
  for (const g of policy.grants) {
    if (g.agents.includes('*') || g.agents.includes(agent.name) || g.agents.includes(agent.id)) {
      for (const t of g.templates) out.add(t);
    }
  }
  return out;
}

export function taskTtlFor(policy: Policy, template: string, environment: string): number {
  const env = policy.environments[environment];
  const tpl = policy.templates[template];
  if (!env || !tpl) throw new Error(`unknown template ${template} or environment ${environment}`);
  return Math.min(env.taskTtl, tpl.taskTtl ?? env.taskTtl);
}
