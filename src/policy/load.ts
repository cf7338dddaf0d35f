import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { hostMatches } from '../core/environments.js';
import type { Policy } from '../core/policy.js';
import { policyFileSchema, trajectorySchema, type PolicyFile } from './schema.js';

export interface PolicySource {
  /** Shown in errors; a path relative to the policies folder is friendliest. */
  file: string;
  text: string;
}

/** One fault of a policy: `file`, `line` and `field` locate it. */
export interface PolicyProblem {
  file: string;
  line: number;
  field: string;
  reason: string;
}

const formatProblem = (p: PolicyProblem) => `${p.file}:${p.line}: ${p.field || '(file)'}: ${p.reason}`;

/**
 * A policy that does not validate: every problem found, in file order (`problems`). `file`,
 * `line`, `field` and `reason` are the first one's; the message lists them all, one a line
 * (so its first line is the first problem).
 */
export class PolicyError extends Error {
  readonly problems: PolicyProblem[];
  readonly file: string;
  readonly line: number;
  readonly field: string;
  readonly reason: string;
  constructor(file: string | PolicyProblem[], line = 0, field = '', reason = '') {
    const problems = Array.isArray(file) ? file : [{ file, line, field, reason }];
    const first = problems[0] ?? { file: '(policies)', line: 0, field: '', reason: 'invalid policy' };
    super(problems.length <= 1 ? formatProblem(first) : problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
    this.problems = problems.length ? problems : [first];
    ({ file: this.file, line: this.line, field: this.field, reason: this.reason } = first);
  }
}

type Path = (string | number)[];

interface Parsed {
  source: PolicySource;
  doc: Document;
  lines: LineCounter;
  /** Undefined when the file does not validate (its problems are reported instead). */
  data?: PolicyFile;
  /** What the file says, validated or not. */
  raw: unknown;
}

const fieldName = (path: Path) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');

type Ranged = { range?: [number, number, number] } | null | undefined;

/** The node that names `path`: for a map entry its key (so `env.qa` points at `qa:`), else the item. */
function nodeAt(doc: Document, path: Path): Ranged {
  if (path.length === 0) return doc.contents as Ranged;
  const parent = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === last);
    if (pair) return pair.key as Ranged;
  }
  return doc.getIn(path, true) as Ranged;
}

function lineOf(p: Pick<Parsed, 'doc' | 'lines'>, path: Path): number {
  // Walk up until a node with a position exists (a missing key is reported at its parent).
  for (let depth = path.length; depth >= 0; depth--) {
    const range = nodeAt(p.doc, path.slice(0, depth))?.range;
    if (range) return p.lines.linePos(range[0]).line;
  }
  return 1;
}

const problemAt = (p: Pick<Parsed, 'doc' | 'lines' | 'source'>, path: Path, reason: string): PolicyProblem => ({
  file: p.source.file,
  line: lineOf(p, path),
  field: fieldName(path),
  reason,
});

/* ---- what the schema knows: the keys an object accepts, for "unknown key" messages ---- */

type AnySchema = { _zod: { def: Record<string, any> } };

function unwrap(s: AnySchema): AnySchema[] {
  const d = s._zod.def;
  if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) return unwrap(d.innerType);
  if (d.type === 'pipe') return unwrap(d.in);
  if (d.type === 'union') return (d.options as AnySchema[]).flatMap(unwrap);
  return [s];
}

/** The keys the object(s) at `path` accept. */
function knownKeysAt(path: Path): string[] {
  let cur = unwrap(policyFileSchema as unknown as AnySchema);
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const s of cur) {
      const d = s._zod.def;
      if (d.type === 'object' && typeof seg === 'string' && d.shape[seg]) next.push(...unwrap(d.shape[seg]));
      else if (d.type === 'record') next.push(...unwrap(d.valueType));
      else if (d.type === 'array' && typeof seg === 'number') next.push(...unwrap(d.element));
    }
    cur = next;
  }
  const keys = new Set<string>();
  for (const s of cur) if (s._zod.def.type === 'object') for (const k of Object.keys(s._zod.def.shape)) keys.add(k);
  return [...keys];
}

/** Edit distance (for "did you mean"), bounded: only small ones matter. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The known key a misspelt one most likely meant, if one is close. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

const getIn = (v: unknown, path: Path): unknown => path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k as string] : undefined), v);

/** Every schema problem of one file: unknown keys named as such (with the keys known there), missing keys as missing. */
function schemaProblems(p: Pick<Parsed, 'doc' | 'lines' | 'source'>, raw: unknown, issues: readonly { code: string; path: PropertyKey[]; message: string; keys?: string[] }[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const meant = new Set<string>(); // `path.key` a misspelt key stands for
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const at = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const known = knownKeysAt(at);
    for (const key of issue.keys ?? []) {
      const guess = closest(key, known.filter((k) => !(k in ((getIn(raw, at) as object) ?? {}))));
      if (guess) meant.add(fieldName([...at, guess]));
      const hint = guess ? `: did you mean "${guess}"?` : '';
      out.push(problemAt(p, [...at, key], `unknown key "${key}"${hint} (known keys: ${known.join(', ')})`));
    }
  }
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') continue;
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const parent = getIn(raw, path.slice(0, -1));
    const last = path[path.length - 1];
    const missing = path.length > 0 && parent !== null && typeof parent === 'object' && !Array.isArray(parent) && typeof last === 'string' && !(last in parent);
    if (missing) {
      // A key misspelt is reported once, as the unknown key it is.
      if (meant.has(fieldName(path))) continue;
      out.push(problemAt(p, path, `missing required key "${last}"`));
    } else out.push(problemAt(p, path, issue.message));
  }
  return out.sort((a, b) => a.line - b.line);
}

function parseOne(source: PolicySource, problems: PolicyProblem[]): Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    for (const yamlError of doc.errors) {
      const line = yamlError.linePos?.[0]?.line ?? lines.linePos(yamlError.pos[0]).line;
      problems.push({ file: source.file, line, field: '', reason: `YAML: ${yamlError.message.split('\n')[0]}` });
    }
    return { source, doc, lines, raw: undefined };
  }
  const raw = doc.toJS() ?? {};
  const result = policyFileSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...schemaProblems({ source, doc, lines }, raw, result.error.issues as never));
    return { source, doc, lines, raw };
  }
  return { source, doc, lines, raw, data: result.data };
}

/** Names a file defines in `section`, read from what it says even when it does not validate. */
const rawNames = (raw: unknown, section: string): string[] => {
  const v = getIn(raw, [section]);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
};

/**
 * Merge and check a set of policy files. Throws `PolicyError` listing every fault found:
 * YAML and schema faults of each file, a name defined twice, a reference to something no
 * file defines. (A file that does not validate is left out of the checks between files, but
 * the names it defines still count, so one fault is not reported again as many.)
 */
export function compilePolicy(sources: PolicySource[]): Policy {
  const problems: PolicyProblem[] = [];
  const files = sources.map((s) => parseOne(s, problems));
  const policy: Policy = {
    environments: {},
    capabilities: {},
    templates: {},
    grants: [],
    approvals: [],
    actions: [],
    trajectory: undefined as unknown as Policy['trajectory'],
  };
  const fail = (p: Parsed, path: Path, reason: string) => {
    problems.push(problemAt(p, path, reason));
  };
  const origin = new Map<string, Parsed>();
  /** False (and a problem) when the name is already defined. */
  const defineOnce = (p: Parsed, section: string, key: string): boolean => {
    const prev = origin.get(`${section}.${key}`);
    if (prev) {
      fail(p, [section, key], `already defined in ${prev.source.file}`);
      return false;
    }
    origin.set(`${section}.${key}`, p);
    return true;
  };
  // Names defined by files that do not validate: references to them are not reported again.
  const unchecked = { environments: new Set<string>(), capabilities: new Set<string>(), templates: new Set<string>() };
  for (const p of files) {
    if (p.data) continue;
    for (const section of ['environments', 'capabilities', 'templates'] as const) for (const n of rawNames(p.raw, section)) unchecked[section].add(n);
  }

  for (const p of files) {
    const d = p.data;
    if (!d) continue;
    if (d.local) policy.local = { hosts: [...(policy.local?.hosts ?? []), ...(d.local.hosts ?? [])] };
    for (const [name, e] of Object.entries(d.environments ?? {})) {
      if (defineOnce(p, 'environments', name)) policy.environments[name] = { name, protected: e.protected, maxTokenTtl: e.max_token_ttl, taskTtl: e.task_ttl, hosts: e.hosts };
    }
    for (const [name, c] of Object.entries(d.capabilities ?? {})) {
      if (defineOnce(p, 'capabilities', name)) policy.capabilities[name] = { name, risk: c.risk, description: c.description, resources: c.resources, provider: c.provider };
    }
    for (const [name, t] of Object.entries(d.templates ?? {})) {
      if (defineOnce(p, 'templates', name)) policy.templates[name] = { name, description: t.description, environments: t.environments, ceiling: t.ceiling, taskTtl: t.task_ttl };
    }
    if (d.egress) {
      policy.egress ??= { allow: [], inspect: [] };
      policy.egress.allow.push(...d.egress.allow);
      policy.egress.inspect.push(...d.egress.inspect);
    }
    if (d.trajectory && defineOnce(p, 'trajectory', '')) policy.trajectory = compileTrajectory(d.trajectory);
    if (d.mode && defineOnce(p, 'mode', '')) policy.mode = d.mode;
  }
  if (!policy.trajectory) policy.trajectory = compileTrajectory(trajectorySchema.parse({}));
  if (files.length === 0 || (Object.keys(policy.environments).length === 0 && unchecked.environments.size === 0)) {
    problems.push({ file: sources[0]?.file ?? '(policies)', line: 1, field: 'environments', reason: 'no environment is defined' });
  }

  // References, checked once every file is merged.
  const envExists = (p: Parsed, path: Path, env: string) => {
    const ok = env in policy.environments || unchecked.environments.has(env);
    if (!ok) fail(p, path, `unknown environment "${env}"`);
    return ok;
  };
  for (const p of files) {
    const d = p.data;
    if (!d) continue;
    for (const [name, c] of Object.entries(d.capabilities ?? {})) {
      for (const [env, uri] of Object.entries(c.resources)) {
        if (!envExists(p, ['capabilities', name, 'resources', env], env)) continue;
        // A resource on another environment's hosts would make its URL tell two environments.
        const host = /^https?:\/\//.test(uri) ? new URL(uri).hostname : undefined;
        const claims = host ? Object.values(policy.environments).filter((e) => e.hosts.some((h) => hostMatches(h, host))) : [];
        if (claims.length > 0 && !claims.some((e) => e.name === env)) {
          fail(p, ['capabilities', name, 'resources', env], `${uri} is on the hosts of ${claims.map((e) => `${e.name} (${e.hosts.filter((h) => hostMatches(h, host!)).join(', ')})`).join(' and ')}, not of ${env}`);
        }
      }
    }
    for (const [name, t] of Object.entries(d.templates ?? {})) {
      t.environments.forEach((env, i) => envExists(p, ['templates', name, 'environments', i], env));
      t.ceiling.forEach((cap, i) => {
        const c = policy.capabilities[cap];
        if (!c) {
          if (!unchecked.capabilities.has(cap)) fail(p, ['templates', name, 'ceiling', i], `unknown capability "${cap}"`);
          return;
        }
        for (const env of t.environments) {
          // (An unknown environment is reported once, where the template names it.)
          if (env in policy.environments && !c.resources[env]) fail(p, ['templates', name, 'ceiling', i], `capability "${cap}" has no resource in environment "${env}"`);
        }
      });
    }
    (d.grants ?? []).forEach((g, gi) => {
      g.templates.forEach((tpl, i) => {
        if (!(tpl in policy.templates) && !unchecked.templates.has(tpl)) fail(p, ['grants', gi, 'templates', i], `unknown template "${tpl}"`);
      });
      policy.grants.push({ agents: g.agents, templates: g.templates });
    });
    (d.approvals ?? []).forEach((a, ai) => {
      envExists(p, ['approvals', ai, 'environment'], a.environment);
      if (policy.approvals.some((x) => x.environment === a.environment)) {
        fail(p, ['approvals', ai, 'environment'], `a second approval rule for "${a.environment}"`);
        return;
      }
      // `protected` means a two-person rule: a destructive action there needs two approvers,
      // neither of them the agent's owner. A policy that says less for such an environment is refused.
      if (policy.environments[a.environment]?.protected) {
        if (a.quorum < 2) fail(p, ['approvals', ai, 'quorum'], `"${a.environment}" is protected: its approvals need a quorum of at least 2`);
        if (a.allow_owner) fail(p, ['approvals', ai, 'allow_owner'], `"${a.environment}" is protected: the agent's owner may not approve there`);
      }
      policy.approvals.push({ environment: a.environment, quorum: a.quorum, groups: a.groups, allowOwner: a.allow_owner, ttl: a.ttl });
    });
    (d.actions ?? []).forEach((a, ai) => {
      if (!(a.capability in policy.capabilities) && !unchecked.capabilities.has(a.capability)) fail(p, ['actions', ai, 'capability'], `unknown capability "${a.capability}"`);
      policy.actions.push(a);
    });
  }
  if (problems.length) {
    // In file order, then line order: the way a person fixes them.
    const order = new Map(sources.map((s, i) => [s.file, i]));
    problems.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line);
    throw new PolicyError(problems);
  }
  return policy;
}

/** `stop` | `refuse` | `{action, lock_agent}` per rule, as the core reads it. */
function compileTrajectory(t: PolicyFile['trajectory'] & object): Policy['trajectory'] {
  const rules: Policy['trajectory']['rules'] = {};
  for (const [name, v] of Object.entries(t.rules)) {
    if (v === undefined) continue;
    rules[name] = typeof v === 'string' ? { action: v } : { ...('action' in v ? { action: v.action, lockAgent: v.lock_agent } : {}), ...(v.mode ? { mode: v.mode } : {}) };
  }
  return { window: t.window, maxRecentFailures: t.max_recent_failures, rules };
}
