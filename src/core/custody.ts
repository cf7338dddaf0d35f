import type { Core } from './context.js';
import { utf8 } from './encoding.js';
import { StintError } from './errors.js';
import { environmentServedBy, hostMatches } from './environments.js';
import type { StintClaims } from './tokens.js';

/**
 * Custody: provider credentials (a Railway token, a GitHub PAT, a Stripe key) held for agents,
 * bound to the hosts they are for and the environment they act on. An entry is sealed whole
 * (value and binding) in the vault's store under `custody:<name>`, so it shares the vault's
 * sealing, master-key rotation and backends; the trade-off is that listing opens each entry
 * (operator-only, a handful of entries). No API returns a value to the operator: the only way
 * out is `egressSession`, to the holder of a live task token of the entry's environment (the
 * `stint run` supervisor, outside the agent's sandbox), for its egress proxy to inject.
 */
export interface CustodyEntry {
  name: string;
  environment: string;
  hosts: string[];
  /** With `header`, the proxy sets `header: scheme value` on requests that carry no credential. */
  header?: string;
  scheme?: string;
}

export interface CustodyInput extends CustodyEntry {
  value: string;
}

interface Sealed extends CustodyInput {
  v: 1;
}

export const CUSTODY_PREFIX = 'custody:';
const key = (name: string) => `${CUSTODY_PREFIX}${name}`;

export async function putCustody(core: Core, input: CustodyInput, actor: string) {
  if (!(input.environment in core.policy.environments)) throw new StintError('invalid_request', `unknown environment "${input.environment}" (the policy defines ${Object.keys(core.policy.environments).join(', ')})`);
  // A credential bound to one environment is never injected into requests to another's hosts.
  for (const h of input.hosts) {
    const served = environmentServedBy(core.policy, h.replace(/^\*\./, 'x.'));
    if (served && served !== input.environment) throw new StintError('invalid_request', `host ${h} serves ${served}, not ${input.environment}`);
  }
  if (input.scheme && !input.header) throw new StintError('invalid_request', 'scheme needs header (the header the proxy sets)');
  const sealed: Sealed = { v: 1, name: input.name, environment: input.environment, hosts: [...new Set(input.hosts.map((h) => h.toLowerCase()))], header: input.header, scheme: input.scheme, value: input.value };
  const now = core.clock.now();
  await core.store.secrets.put(key(input.name), await core.sealer.seal(utf8(JSON.stringify(sealed))), now);
  await core.audit.append({ type: 'custody.stored', actor, data: { name: input.name, environment: input.environment, hosts: sealed.hosts } });
  const row = await core.store.secrets.get(key(input.name));
  return { ...describe(sealed), created_at: new Date(row!.createdAt).toISOString(), updated_at: new Date(row!.updatedAt).toISOString() };
}

const describe = (e: Sealed | CustodyInput): CustodyEntry => ({ name: e.name, environment: e.environment, hosts: e.hosts, ...(e.header ? { header: e.header } : {}), ...(e.scheme ? { scheme: e.scheme } : {}) });

async function openAll(core: Core): Promise<(Sealed & { createdAt: number; updatedAt: number })[]> {
  const rows = (await core.store.secrets.list()).filter((r) => r.name.startsWith(CUSTODY_PREFIX));
  const out = [];
  for (const r of rows) {
    const e = JSON.parse(new TextDecoder().decode(await core.sealer.open(r.sealedValue))) as Sealed;
    out.push({ ...e, createdAt: r.createdAt, updatedAt: r.updatedAt });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Names, hosts, environments; never values. */
export async function listCustody(core: Core) {
  return (await openAll(core)).map((e) => ({ ...describe(e), created_at: new Date(e.createdAt).toISOString(), updated_at: new Date(e.updatedAt).toISOString() }));
}

/** Hosts whose requests the egress proxy must read: custody hosts, action matchers' hosts, `egress.inspect`. */
export function inspectedHosts(core: Core, custody: CustodyEntry[]): string[] {
  const fromActions = core.policy.actions.flatMap((a) => [...(a.http?.hosts ?? []), ...(a.graphql?.hosts ?? [])]);
  const fromEnvs = core.policy.actions.some((a) => a.http && !a.http.hosts) ? Object.values(core.policy.environments).flatMap((e) => e.hosts) : [];
  return [...new Set([...custody.flatMap((c) => c.hosts), ...fromActions, ...fromEnvs, ...(core.policy.egress?.inspect ?? [])])];
}

export interface EgressSession {
  task_id: string;
  environment: string;
  inspect: string[];
  allow: string[];
  /** Hosts where GraphQL action matchers apply (no readable document there is `uncertain`). */
  graphql: string[];
  /** Methods the HTTP action matchers name: the proxy asks the broker about every such request. */
  methods: string[];
  custody: CustodyInput[];
}

/**
 * What a `stint run` supervisor needs for its proxy, for the live task whose token (with a DPoP
 * proof of its key) authenticated the call: the host lists, and the custody entries of the task's
 * environment with their values. `names` the run binds to variables must exist and serve that
 * environment: a run asking for another environment's credential is refused before it starts.
 */
export async function egressSession(core: Core, claims: StintClaims, names: string[]): Promise<EgressSession> {
  const task = await core.store.tasks.get(claims.task_id);
  if (!task || task.status !== 'active') throw new StintError('invalid_token', `task ${claims.task_id} is not active`);
  const all = await openAll(core);
  for (const n of names) {
    const e = all.find((x) => x.name === n);
    if (!e) throw new StintError('invalid_request', `no custody entry named "${n}"`);
    if (e.environment !== task.environment) throw new StintError('invalid_request', `custody entry "${n}" serves ${e.environment}, the task is in ${task.environment}`);
  }
  const mine = all.filter((e) => e.environment === task.environment);
  await core.audit.append({ type: 'custody.session', actor: claims.sub, data: { task_id: task.id, entries: mine.map((e) => e.name) } });
  return {
    task_id: task.id,
    environment: task.environment,
    inspect: inspectedHosts(core, all),
    allow: core.policy.egress?.allow ?? [],
    graphql: [...new Set(core.policy.actions.flatMap((a) => a.graphql?.hosts ?? []))],
    methods: [...new Set(core.policy.actions.flatMap((a) => (a.http?.methods ?? []).map((m) => m.toUpperCase())))],
    custody: mine.map((e) => ({ ...describe(e), value: e.value })),
  };
}

/** Whether `host` is one of an entry's hosts (patterns like `*.example.com` allowed). */
export const servesHost = (e: CustodyEntry, host: string) => e.hosts.some((p) => hostMatches(p, host));
