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
  /** First 16 hex digits of SHA-256 over the value. */
  fingerprint: string;
  /** Where it was seen: `header`, `userinfo`, `env`, `argument`, `body`, `file`, `mcp`, `write`. */
  position: string;
  /** A file it came from, if any (a path, never the content). */
  file?: string;
}

export type CallDescriptor =
  | { type: 'http'; method: string; host: string; path: string; graphql?: { mutations: string[]; queries: string[] }; graphqlUnparsed?: boolean }
  | { type: 'sql'; statements: SqlStatementKind[]; host?: string; unparsed?: boolean }
  | { type: 'command'; argv: string[] };

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
  /** SHA-256 (hex prefix) of the normalised call: what an approval is for. */
  callHash: string;
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
}

/** The environment an action whose environment cannot be told is held to: the most protected. */
export function mostProtectedEnvironment(policy: Policy): string | undefined {
  const envs = Object.values(policy.environments);
  return (envs.find((e) => e.protected) ?? envs[envs.length - 1])?.name;
}

function matchCommand(m: NonNullable<ActionMatcher['command']>, argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith('-'));
  const base = (words[0] ?? '').split('/').pop();
  if (base !== m.argv[0]) return false;
  for (let i = 1; i < m.argv.length; i++) if (words[i] !== m.argv[i]) return false;
  return (m.flags ?? []).every((f) => argv.some((a) => a === f || a.startsWith(`${f}=`)));
}

/** Every capability the calls exercise, per the policy's action matchers (file order). */
export function classifyCalls(policy: Policy, calls: CallDescriptor[]): ClassifiedAction[] {
  const out: ClassifiedAction[] = [];
  for (const call of calls) {
    // The environment of the call's host, once per call (several environments claiming it: it cannot be told, so the most protected).
    const served = call.type === 'command' ? undefined : classifyEnvironment(policy, call.host);
    for (const m of policy.actions ?? []) {
      if (call.type === 'http') {
        const env = served!.environment;
        if (m.http && m.http.methods.includes(call.method.toUpperCase()) && call.path.startsWith(m.http.path)) {
          const hostOk = m.http.hosts ? m.http.hosts.some((p) => hostMatches(p, call.host)) : served!.candidates.length > 0;
          if (hostOk) out.push({ capability: m.capability, environment: env, what: `${call.method} ${call.host}${call.path}` });
        }
        if (m.graphql && (!m.graphql.hosts || m.graphql.hosts.some((p) => hostMatches(p, call.host)))) {
          const hit = call.graphql?.mutations.find((f) => m.graphql!.mutations.includes(f));
          if (hit) out.push({ capability: m.capability, environment: env, what: `graphql ${hit} at ${call.host}` });
        }
      } else if (call.type === 'sql' && m.sql) {
        const hit = call.statements.find((s) => m.sql!.statements.includes(s));
        if (hit) out.push({ capability: m.capability, environment: served!.environment, what: `sql ${hit}` });
      } else if (call.type === 'command' && m.command && matchCommand(m.command, call.argv)) {
        out.push({ capability: m.capability, environment: undefined, what: `command ${m.command.argv.join(' ')}` });
      }
    }
  }
  return out;
}
