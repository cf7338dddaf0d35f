import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { Policy } from '../core/policy.js';
import { policyFileSchema, trajectorySchema, type PolicyFile } from './schema.js';

export interface PolicySource {
  /** Shown in errors; a path relative to the policies folder is friendliest. */
  file: string;
  text: string;
}

/** A policy that does not validate. `file`, `line` and `field` locate the fault. */
export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${field || '(file)'}: ${reason}`);
    this.name = 'PolicyError';
  }
}

type Path = (string | number)[];

interface Parsed {
  source: PolicySource;
  doc: Document;
  lines: LineCounter;
  data: PolicyFile;
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

const fail = (p: Parsed, path: Path, reason: string): never => {
  throw new PolicyError(p.source.file, lineOf(p, path), fieldName(path), reason);
};

function parseOne(source: PolicySource): Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line ?? lines.linePos(yamlError.pos[0]).line;
    throw new PolicyError(source.file, line, '', `YAML: ${yamlError.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() ?? {};
  const result = policyFileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    // An unknown key is reported at the key itself, not at its parent object.
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
    throw new PolicyError(source.file, lineOf({ doc, lines }, path), fieldName(path), issue.message);
  }
  return { source, doc, lines, data: result.data };
}

/**
 * Merge and check a set of policy files. Throws `PolicyError` on the first fault: schema
 * violations, a name defined twice, or a reference to something no file defines.
 */
export function compilePolicy(sources: PolicySource[]): Policy {
  const files = sources.map(parseOne);
  const policy: Policy = {
    environments: {},
    capabilities: {},
    templates: {},
    grants: [],
    approvals: [],
    actions: [],
    trajectory: undefined as unknown as Policy['trajectory'],
  };
  const origin = new Map<string, Parsed>();
  const defineOnce = (p: Parsed, section: string, key: string) => {
    const prev = origin.get(`${section}.${key}`);
    if (prev) fail(p, [section, key], `already defined in ${prev.source.file}`);
    origin.set(`${section}.${key}`, p);
  };

  for (const p of files) {
    const d = p.data;
    for (const [name, e] of Object.entries(d.environments ?? {})) {
      defineOnce(p, 'environments', name);
      policy.environments[name] = { name, protected: e.protected, maxTokenTtl: e.max_token_ttl, taskTtl: e.task_ttl, hosts: e.hosts };
    }
    for (const [name, c] of Object.entries(d.capabilities ?? {})) {
      defineOnce(p, 'capabilities', name);
      policy.capabilities[name] = { name, risk: c.risk, description: c.description, resources: c.resources, provider: c.provider };
    }
    for (const [name, t] of Object.entries(d.templates ?? {})) {
      defineOnce(p, 'templates', name);
      policy.templates[name] = { name, description: t.description, environments: t.environments, ceiling: t.ceiling, taskTtl: t.task_ttl };
    }
    if (d.egress) {
      policy.egress ??= { allow: [], inspect: [] };
      policy.egress.allow.push(...d.egress.allow);
      policy.egress.inspect.push(...d.egress.inspect);
    }
    if (d.trajectory) {
      defineOnce(p, 'trajectory', '');
      const t = d.trajectory;
      policy.trajectory = compileTrajectory(t);
    }
  }
  if (!policy.trajectory) {
    const t = trajectorySchema.parse({});
    policy.trajectory = compileTrajectory(t);
  }
  if (files.length === 0 || Object.keys(policy.environments).length === 0) {
    throw new PolicyError(sources[0]?.file ?? '(policies)', 1, 'environments', 'no environment is defined');
  }

  // References, checked once every file is merged.
  const envExists = (p: Parsed, path: Path, env: string) =>
    env in policy.environments || fail(p, path, `unknown environment "${env}"`);
  for (const p of files) {
    const d = p.data;
    for (const [name, c] of Object.entries(d.capabilities ?? {})) {
      for (const env of Object.keys(c.resources)) envExists(p, ['capabilities', name, 'resources', env], env);
    }
    for (const [name, t] of Object.entries(d.templates ?? {})) {
      t.environments.forEach((env, i) => envExists(p, ['templates', name, 'environments', i], env));
      t.ceiling.forEach((cap, i) => {
        const c = policy.capabilities[cap];
        if (!c) fail(p, ['templates', name, 'ceiling', i], `unknown capability "${cap}"`);
        for (const env of t.environments) {
          if (!c!.resources[env]) fail(p, ['templates', name, 'ceiling', i], `capability "${cap}" has no resource in environment "${env}"`);
        }
      });
    }
    (d.grants ?? []).forEach((g, gi) => {
      g.templates.forEach((tpl, i) => {
        if (!(tpl in policy.templates)) fail(p, ['grants', gi, 'templates', i], `unknown template "${tpl}"`);
      });
      policy.grants.push({ agents: g.agents, templates: g.templates });
    });
    (d.approvals ?? []).forEach((a, ai) => {
      envExists(p, ['approvals', ai, 'environment'], a.environment);
      if (policy.approvals.some((x) => x.environment === a.environment)) {
        fail(p, ['approvals', ai, 'environment'], `a second approval rule for "${a.environment}"`);
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
      if (!(a.capability in policy.capabilities)) fail(p, ['actions', ai, 'capability'], `unknown capability "${a.capability}"`);
      policy.actions.push(a);
    });
  }
  return policy;
}

/** `stop` | `refuse` | `{action, lock_agent}` per rule, as the core reads it. */
function compileTrajectory(t: PolicyFile['trajectory'] & object): Policy['trajectory'] {
  const rules: Policy['trajectory']['rules'] = {};
  for (const [name, v] of Object.entries(t.rules)) rules[name] = typeof v === 'string' ? { action: v } : { action: v.action, lockAgent: v.lock_agent };
  return { window: t.window, maxRecentFailures: t.max_recent_failures, rules };
}
