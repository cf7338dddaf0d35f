import { classifyEnvironment, hostMatches } from './environments.js';
import type { ActionMatcher, Policy, SqlStatementKind } from './policy.js';

/**
 * What the tool-call path (`stint guard`, or any other AuthZEN client) tells the broker about one
 * tool call. It never carries a secret: credentials travel as kind + fingerprint only, and the
 * calls as the parts the policy's action matchers need (method, host, path, operation names,
 * statement kinds, the command's leading words).
 */
export type ToolCallStage = 'pre' | 'post' | 'failure' | 'session' | 'prompt';

export interface SeenCredential {
  /** e.g. `github_pat`, `aws_access_key`, `bearer`, `basic_auth`, `env:RAILWAY_TOKEN`, `stint_token`. */
  kind: string;
  /**
   * On the wire, a digest of the value (16 hex digits of SHA-256); once the broker has it, the
   * keyed fingerprint it records (core/fingerprints.ts), never the unkeyed digest.
   */
  fingerprint: string;
  /** Where it was seen: `header`, `userinfo`, `env`, `argument`, `body`, `file`, `mcp`, `write`. */
  position: string;
  /** A file it came from, if any (a path, never the content). */
  file?: string;
  /**
   * A stint token of the task's own issuer that is not the task's: sent whole to that issuer only,
   * which verifies it and revokes it as leaked (core/tool-call-intake.ts). Never recorded.
   */
  token?: string;
}

export type CallDescriptor =
  | { type: 'http'; method: string; host: string; path: string; graphql?: { mutations: string[]; queries: string[] }; graphqlUnparsed?: boolean }
  | { type: 'sql'; statements: SqlStatementKind[]; host?: string; unparsed?: boolean; /** The database is named by a value known only when it runs. */ hostUnresolved?: boolean }
  | { type: 'command'; argv: string[] }
  | { type: 'mcp'; server: string; tool: string };

export interface ToolCallFacts {
  stage: ToolCallStage;
  tool: string;
  harness?: string;
  /** Credentials the call uses that are not the task's own stint token. */
  credentials: SeenCredential[];
  /** Credentials the call would show the agent (a file read, a `cat .env`). */
  exposed: SeenCredential[];
  calls: CallDescriptor[];
  /** Why the guard could not tell what the call does; the call is then not allowed. */
  uncertain?: string;
  /** A digest of the call, for the record only: approvals are for the actions the broker derives. */
  callHash?: string;
  /** A failure's message (stage `failure`), truncated. */
  error?: string;
  /** A short human summary of the call, never holding a credential. */
  summary?: string;
}

export interface ClassifiedAction {
  capability: string;
  /** The environment the call acts on, or undefined when it cannot be told. */
  environment: string | undefined;
  /** What matched, for the record: `DELETE api.staging.example/volumes/…`, `graphql volumeDelete`. */
  what: string;
  /** Classified by a matcher in shadow mode (`mode: shadow`): decided, recorded, not enforced. */
  shadow?: boolean;
}

/** The environment of this machine: workspace files, databases on localhost. */
export const LOCAL = 'local';
const LOCAL_HOSTS = ['localhost', '*.localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0'];

/**
 * The environment a call's target serves, told as everywhere else (core/environments.ts); a
 * target no environment claims that is this machine (policy `local`) is environment `local`.
 * `claimed` says whether any environment claims it (several: it cannot be told).
 */
export function environmentOfTarget(policy: Policy, target: string | undefined, host = target): { environment: string | undefined; claimed: boolean } {
  if (!target) return { environment: undefined, claimed: false };
  const served = classifyEnvironment(policy, target);
  if (served.candidates.length) return { environment: served.environment, claimed: true };
  const h = (host ?? '').toLowerCase().replace(/\.$/, '');
  if ([...LOCAL_HOSTS, ...(policy.local?.hosts ?? [])].some((p) => hostMatches(p, h)) || /^127\./.test(h)) return { environment: LOCAL, claimed: true };
  return { environment: undefined, claimed: false };
}

/** The environment an action whose environment cannot be told is held to: the most protected. */
export function mostProtectedEnvironment(policy: Policy): string | undefined {
  const envs = Object.values(policy.environments);
  return (envs.find((e) => e.protected) ?? envs[envs.length - 1])?.name;
}

/**
 * A command matcher by the command's words whatever the option order: the matcher's words in
 * order among the command's non-option words (`kubectl --context prod delete pod x` is
 * `kubectl delete`), case-insensitively; each flag present as `-f`, `-f=v` or `-f v`.
 */
function matchCommand(m: NonNullable<ActionMatcher['command']>, argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith('-')).map((w) => w.toLowerCase());
  const base = (words[0] ?? '').split('/').pop();
  if (base !== m.argv[0]!.toLowerCase()) return false;
  let at = 1;
  for (let i = 1; i < m.argv.length; i++) {
    const want = m.argv[i]!.toLowerCase();
    while (at < words.length && words[at] !== want) at++;
    if (at >= words.length) return false;
    at++;
  }
  return (m.flags ?? []).every((f) => {
    const [name, value] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [f, undefined];
    return argv.some((a, i) => (value === undefined ? a === name || a.startsWith(`${name}=`) : a === f || (a === name && argv[i + 1] === value)));
  });
}

/** A URL path as the server resolves it: percent-decoded, `//` collapsed, `.` and `..` segments applied. */
export function normalisePath(path: string): string {
  let p = path;
  try {
    p = decodeURIComponent(p);
  } catch {
    /* keep it raw */
  }
  const out: string[] = [];
  const segments = p.replace(/\\/g, '/').split('/');
  for (const seg of segments) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}${p.endsWith('/') && out.length ? '/' : ''}`;
}

/** Every capability the calls exercise, per the policy's action matchers (file order). */
export function classifyCalls(policy: Policy, calls: CallDescriptor[]): ClassifiedAction[] {
  const out: ClassifiedAction[] = [];
  for (const call of calls) {
    // The environment of the call's target, once per call, not once per matcher (several
    // environments claiming it: it cannot be told, so the most protected).
    const host = call.type === 'http' ? call.host.toLowerCase().replace(/\.$/, '') : '';
    const path = call.type === 'http' ? normalisePath(call.path) : '';
    const served = call.type === 'http' ? environmentOfTarget(policy, `https://${host}${path}`, host) : call.type === 'sql' ? environmentOfTarget(policy, call.host) : undefined;
    for (const m of policy.actions ?? []) {
      const before = out.length;
      if (call.type === 'http') {
        const method = call.method.toUpperCase();
        const env = served!.environment;
        if (m.http && m.http.methods.includes(method) && path.startsWith(m.http.path)) {
          const hostOk = m.http.hosts ? m.http.hosts.some((p) => hostMatches(p, host)) : served!.claimed;
          if (hostOk) out.push({ capability: m.capability, environment: env, what: `${method} ${host}${path}` });
        }
        if (m.graphql && (!m.graphql.hosts || m.graphql.hosts.some((p) => hostMatches(p, host)))) {
          for (const hit of new Set(call.graphql?.mutations.filter((f) => m.graphql!.mutations.includes(f)) ?? [])) {
            out.push({ capability: m.capability, environment: env, what: `graphql ${hit} at ${host}${path}` });
          }
        }
      } else if (call.type === 'sql' && m.sql) {
        const hit = call.statements.find((s) => m.sql!.statements.includes(s));
        if (hit) out.push({ capability: m.capability, environment: served!.environment, what: `sql ${hit}${call.host ? ` at ${call.host}` : ''}` });
      } else if (call.type === 'command' && m.command && matchCommand(m.command, call.argv)) {
        out.push({ capability: m.capability, environment: undefined, what: `command ${call.argv.join(' ').slice(0, 300)}` });
      } else if (call.type === 'mcp' && m.mcp && (m.mcp.server === '*' || m.mcp.server === call.server) && (m.mcp.tool === '*' || m.mcp.tool === call.tool)) {
        out.push({ capability: m.capability, environment: m.mcp.environment, what: `mcp ${call.server} ${call.tool}` });
      }
      if (m.mode === 'shadow') for (let i = before; i < out.length; i++) out[i]!.shadow = true;
    }
  }
  return out;
}
