import type { Policy } from './policy.js';

/**
 * Which environment a URL or a host serves: the one classifier the broker (signals, token
 * exchange), the tool-call path (`stint guard`, AuthZEN) and the egress proxy share, so an
 * environment is told the same way everywhere. It reads only the policy:
 *
 * - the capabilities' resource URIs: a URL at or under one of them (same origin, a path on a
 *   segment boundary) serves that resource's environment, the longest match winning; a
 *   non-URL resource (an AWS role ARN) is matched exactly;
 * - the environments' `hosts` patterns (`*.production.example`) and the hosts of the
 *   capabilities' resource URIs: a URL or host whose host name one of them names serves that
 *   environment.
 *
 * A target that maps to no environment, or to more than one, serves none that can be told
 * (`environment` undefined; `candidates` says which, for the message).
 */
export interface EnvironmentClassification {
  environment: string | undefined;
  /** Every environment the target could belong to (more than one: ambiguous). */
  candidates: string[];
}

/** `*.staging.example` matches `api.staging.example` (and deeper); a plain name matches itself. */
export function hostMatches(pattern: string, host: string): boolean {
  const h = normHost(host);
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) return h.endsWith(p.slice(1));
  return h === p;
}

function normHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

interface Target {
  host: string;
  /** Set for a URL (not a bare host). */
  origin?: string;
  path?: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function parseUrl(s: string): Target | undefined {
  try {
    const u = new URL(s);
    if (!u.hostname) return undefined;
    return { host: normHost(u.hostname), origin: u.origin, path: u.pathname || '/' };
  } catch {
    return undefined;
  }
}

/** A URL (`https://api.production.example/config`) or a host (`api.production.example`, `db:5432`). */
function parseTarget(target: string): Target | undefined {
  const t = target.trim();
  if (!t) return undefined;
  if (SCHEME.test(t)) return parseUrl(t);
  // A bare host, possibly with a port ([::1]:5432, db.internal:5432).
  const u = parseUrl(`http://${t}`);
  if (u && u.path === '/' && !t.includes('/') && !t.includes('@')) return { host: u.host };
  return undefined;
}

/** `/config` is on `/config` and `/config/x`, not on `/configx`. */
function pathOn(path: string, base: string): boolean {
  if (base === '/' || base === '') return true;
  const b = base.endsWith('/') ? base.slice(0, -1) : base;
  return path === b || path.startsWith(`${b}/`);
}

const sorted = (s: Set<string>) => [...s].sort();

interface ResourceEntry {
  env: string;
  uri: string;
  /** Set when the resource is a URL. */
  url?: Target;
}

/** The policy's resources, parsed once per policy object (policies are not mutated once compiled). */
const RESOURCES = new WeakMap<Policy, ResourceEntry[]>();
function resourcesOf(policy: Policy): ResourceEntry[] {
  let out = RESOURCES.get(policy);
  if (!out) {
    out = [];
    for (const c of Object.values(policy.capabilities)) {
      for (const [env, uri] of Object.entries(c.resources)) if (env in policy.environments) out.push({ env, uri, url: SCHEME.test(uri) ? parseUrl(uri) : undefined });
    }
    RESOURCES.set(policy, out);
  }
  return out;
}

export function classifyEnvironment(policy: Policy, target: string | undefined): EnvironmentClassification {
  const none: EnvironmentClassification = { environment: undefined, candidates: [] };
  if (!target) return none;
  const resources = resourcesOf(policy);
  const decide = (envs: Set<string>): EnvironmentClassification => ({ environment: envs.size === 1 ? [...envs][0] : undefined, candidates: sorted(envs) });

  // A resource named exactly (also what is not a URL: an AWS role ARN).
  const exact = new Set(resources.filter((r) => r.uri === target).map((r) => r.env));
  if (exact.size) return decide(exact);

  const t = parseTarget(target);
  if (!t) return none;

  // A URL at or under a capability's resource URI: the longest such resource decides.
  if (t.origin !== undefined) {
    let best = -1;
    let envs = new Set<string>();
    for (const r of resources) {
      const u = r.url;
      if (!u || u.origin !== t.origin || !pathOn(t.path!, u.path!)) continue;
      const len = u.path!.length;
      if (len > best) {
        best = len;
        envs = new Set([r.env]);
      } else if (len === best) envs.add(r.env);
    }
    if (envs.size === 1) return decide(envs);
  }

  // By host name: the environments' `hosts` patterns, and the hosts of their resources.
  const byHost = new Set<string>();
  for (const env of Object.values(policy.environments)) if ((env.hosts ?? []).some((p) => hostMatches(p, t.host))) byHost.add(env.name);
  for (const r of resources) if (r.url && r.url.host === t.host) byHost.add(r.env);
  return decide(byHost);
}

/** The environment a URL or host serves, when exactly one can be told (see classifyEnvironment). */
export function environmentServedBy(policy: Policy, target: string | undefined): string | undefined {
  return classifyEnvironment(policy, target).environment;
}
