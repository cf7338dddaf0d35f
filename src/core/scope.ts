/**
 * What a scope revocation covers: everything, one agent, or one environment.
 *
 * Stores, events (`scope.revoked`'s `scope`), SETs and verifiers carry a scope as its key —
 * `all`, `agent:<id>`, `env:<name>` — and that string form is on the wire and in the database,
 * so it never changes. This file is the only place it is spelled; everything else holds the
 * value and calls `scopeKey` / `parseScopeKey` at the edge.
 */
export type RevocationScope = { kind: 'all' } | { kind: 'agent'; id: string } | { kind: 'environment'; name: string };

/** The key of `all`, and the prefixes of the other keys (SQL that builds keys from columns reads these). */
export const SCOPE_KEY = { all: 'all', agent: 'agent:', environment: 'env:' } as const;

export const allScope: RevocationScope = { kind: 'all' };
export const agentScope = (id: string): RevocationScope => ({ kind: 'agent', id });
export const environmentScope = (name: string): RevocationScope => ({ kind: 'environment', name });

/** The stored and pushed string form of a scope. */
export function scopeKey(scope: RevocationScope): string {
  switch (scope.kind) {
    case 'all':
      return SCOPE_KEY.all;
    case 'agent':
      return SCOPE_KEY.agent + scope.id;
    case 'environment':
      return SCOPE_KEY.environment + scope.name;
  }
}

/**
 * A scope from its key; undefined for a string that is no scope key (an agent or environment
 * key with an empty name included), so a caller never mistakes garbage for `all`.
 */
export function parseScopeKey(key: string): RevocationScope | undefined {
  if (key === SCOPE_KEY.all) return allScope;
  if (key.startsWith(SCOPE_KEY.agent) && key.length > SCOPE_KEY.agent.length) return agentScope(key.slice(SCOPE_KEY.agent.length));
  if (key.startsWith(SCOPE_KEY.environment) && key.length > SCOPE_KEY.environment.length) return environmentScope(key.slice(SCOPE_KEY.environment.length));
  return undefined;
}

/** The scopes that cover a task or a token: everything, its agent, its environment. */
export const scopesOf = (agentId: string, environment: string): RevocationScope[] => [allScope, agentScope(agentId), environmentScope(environment)];
