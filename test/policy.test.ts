import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { templatesFor } from '../src/core/policy.js';
import { compilePolicy, PolicyError, type PolicySource } from '../src/policy/load.js';
import { policyJsonSchema } from '../src/policy/schema.js';
import { defaultPolicy, POLICIES_DIR } from './helpers/policy.js';

const defaults = (): PolicySource[] =>
  readdirSync(POLICIES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(POLICIES_DIR, f), 'utf8') }));

function faultOf(extra: string, file = 'extra.yaml'): PolicyError {
  try {
    compilePolicy([...defaults(), { file, text: extra }]);
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('policy was accepted');
}

describe('the default policy set', () => {
  it('models the incident as the contract lists it', () => {
    const p = defaultPolicy();
    expect(p.environments.production).toMatchObject({ protected: true, maxTokenTtl: 120 });
    expect(p.environments.staging).toMatchObject({ protected: false, maxTokenTtl: 300 });
    expect(Object.fromEntries(Object.values(p.capabilities).map((c) => [c.name, c.risk]))).toEqual({
      'config.read': 'read',
      'config.write': 'write',
      'db.read': 'read',
      'volume.delete': 'destructive',
      'backup.delete': 'destructive',
      'aws.s3.read': 'read',
      'db.drop': 'destructive',
      'infra.destroy': 'destructive',
    });
    expect(p.environments.staging!.hosts).toEqual(['*.staging.example']);
    expect(p.environments.production!.hosts).toEqual(['*.production.example']);
    expect(p.actions.map((a) => a.capability)).toEqual(expect.arrayContaining(['volume.delete', 'backup.delete', 'db.drop']));
    for (const t of Object.values(p.templates)) expect(t.ceiling).not.toContain('db.drop');
    expect(p.capabilities['aws.s3.read']).toMatchObject({
      resources: { staging: 'arn:aws:iam::000000000000:role/stint-demo-reader' },
      provider: { type: 'aws', session_policy: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::stint-demo-staging/*' }] } },
    });
    expect(p.capabilities['volume.delete']!.resources.staging).toBe('https://api.staging.example/volumes');
    expect(p.templates['fix-credentials']).toMatchObject({ environments: ['staging'], ceiling: ['config.read', 'config.write', 'aws.s3.read'] });
    expect(p.templates['ops-maintenance']).toMatchObject({ environments: ['production'], ceiling: ['db.read', 'volume.delete', 'backup.delete'] });
    expect(p.approvals).toEqual([
      { environment: 'production', quorum: 2, groups: ['sre'], allowOwner: false, ttl: 600 },
      { environment: 'staging', quorum: 1, groups: ['sre'], allowOwner: false, ttl: 600 },
    ]);
    expect(p.trajectory).toMatchObject({ window: 600, maxRecentFailures: 2 });
  });

  it('ships a JSON Schema equal to the one generated from the validator', () => {
    const shipped = JSON.parse(readFileSync(join(POLICIES_DIR, 'schema.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });
});

describe('invalid policies are refused with file, line and field', () => {
  it('a value out of range', () => {
    const e = faultOf('environments:\n  qa:\n    max_token_ttl: 0\n');
    expect(e).toMatchObject({ file: 'extra.yaml', line: 3, field: 'environments.qa.max_token_ttl' });
  });

  it('an unknown key', () => {
    const e = faultOf('environments:\n  qa:\n    max_token_ttl: 60\n    colour: red\n');
    expect(e).toMatchObject({ line: 4, field: 'environments.qa.colour' });
  });

  it('a bad risk level', () => {
    const e = faultOf('capabilities:\n  x.y:\n    risk: spicy\n    resources:\n      staging: https://a.example/\n');
    expect(e).toMatchObject({ line: 3, field: 'capabilities.x.y.risk' });
  });

  it('a reference to an unknown capability or environment', () => {
    expect(faultOf('templates:\n  t:\n    environments: [staging]\n    ceiling:\n      - config.read\n      - nope\n')).toMatchObject({
      line: 6,
      field: 'templates.t.ceiling[1]',
    });
    expect(faultOf('templates:\n  t:\n    environments: [mars]\n    ceiling: [config.read]\n')).toMatchObject({ line: 3, field: 'templates.t.environments[0]' });
  });

  it('a name defined twice across files', () => {
    const e = faultOf('\n\nenvironments:\n  staging:\n    max_token_ttl: 60\n');
    expect(e).toMatchObject({ file: 'extra.yaml', line: 4, field: 'environments.staging' });
    expect(e.reason).toMatch(/already defined in environments.yaml/);
  });

  it('broken YAML', () => {
    const e = faultOf('environments:\n  qa: [unclosed\n');
    expect(e.file).toBe('extra.yaml');
    expect(e.reason).toMatch(/^YAML/);
  });

  it('a capability without a resource in one of its template environments', () => {
    const e = faultOf('capabilities:\n  only.prod:\n    risk: read\n    resources:\n      production: https://p.example/\ntemplates:\n  t:\n    environments: [staging]\n    ceiling: [only.prod]\n');
    expect(e.field).toBe('templates.t.ceiling[0]');
    expect(e.reason).toMatch(/no resource in environment "staging"/);
  });
});

describe('every fault at once (issue 18)', () => {
  const faults = (...extra: PolicySource[]): PolicyError => {
    try {
      compilePolicy([...defaults(), ...extra]);
    } catch (e) {
      if (e instanceof PolicyError) return e;
      throw e;
    }
    throw new Error('policy was accepted');
  };

  it('a misspelt key is reported as unknown, with the key it most likely meant and the keys known there, not as a missing one', () => {
    const e = faults({ file: 'qa.yaml', text: 'environments:\n  qa:\n    max_tokn_ttl: 60\n' });
    expect(e.problems).toEqual([
      {
        file: 'qa.yaml',
        line: 3,
        field: 'environments.qa.max_tokn_ttl',
        reason: 'unknown key "max_tokn_ttl": did you mean "max_token_ttl"? (known keys: description, protected, max_token_ttl, task_ttl, hosts)',
      },
    ]);
    // At the top level too.
    const top = faults({ file: 'top.yaml', text: 'enviroments:\n  qa:\n    max_token_ttl: 60\n' });
    expect(top.problems).toHaveLength(1);
    expect(top.problems[0]).toMatchObject({ file: 'top.yaml', line: 1, field: 'enviroments' });
    expect(top.problems[0]!.reason).toBe('unknown key "enviroments": did you mean "environments"? (known keys: environments, capabilities, templates, grants, approvals, trajectory, actions, local, egress)');
  });

  it('a key that is really missing is named as missing; an unrelated unknown key is reported beside it', () => {
    const e = faults({ file: 'qa.yaml', text: 'environments:\n  qa:\n    protected: false\n    colour: red\n' });
    expect(e.problems.map((p) => [p.line, p.field, p.reason.split(' (')[0]])).toEqual([
      [2, 'environments.qa.max_token_ttl', 'missing required key "max_token_ttl"'],
      [4, 'environments.qa.colour', 'unknown key "colour"'],
    ]);
  });

  it('reports every fault of every file, each with file, line and field, and the message lists them all', () => {
    const e = faults(
      { file: 'a.yaml', text: 'environments:\n  qa:\n    max_token_ttl: 0\ncapabilities:\n  x.y:\n    risk: spicy\n    resources:\n      qa: https://a.example/\n' },
      { file: 'b.yaml', text: 'templates:\n  t:\n    environments: [mars]\n    ceiling: [config.read, nope]\ngrants:\n  - agents: ["*"]\n    templates: [ghost]\n' },
      { file: 'c.yaml', text: 'approvals:\n  - environment: staging\n    quorum: 1\n    groups: [sre]\n' },
    );
    expect(e.problems.map((p) => `${p.file}:${p.line}:${p.field}`)).toEqual([
      'a.yaml:3:environments.qa.max_token_ttl',
      'a.yaml:6:capabilities.x.y.risk',
      'b.yaml:3:templates.t.environments[0]',
      'b.yaml:4:templates.t.ceiling[1]',
      'b.yaml:7:grants[0].templates[0]',
      'c.yaml:2:approvals[0].environment',
    ]);
    expect(e.message.split('\n')).toHaveLength(6);
    expect(e.message.split('\n')[0]).toBe('a.yaml:3: environments.qa.max_token_ttl: Too small: expected number to be >=1');
    expect(e.message).toContain('b.yaml:7: grants[0].templates[0]: unknown template "ghost"');
    expect(e.message).toContain('c.yaml:2: approvals[0].environment: a second approval rule for "staging"');
    // The first problem is also the error's own file, line and field.
    expect(e).toMatchObject({ file: 'a.yaml', line: 3, field: 'environments.qa.max_token_ttl' });
  });

  it('a resource on the hosts of another environment is refused: its URL would tell two environments', () => {
    const e = faults({ file: 'x.yaml', text: 'capabilities:\n  x.read:\n    risk: read\n    resources:\n      staging: https://api.production.example/x\n' });
    expect(e.problems).toEqual([{ file: 'x.yaml', line: 5, field: 'capabilities.x.read.resources.staging', reason: 'https://api.production.example/x is on the hosts of production (*.production.example), not of staging' }]);
  });

  it('a name defined by a file that does not validate is not reported again as unknown where it is used', () => {
    const e = faults(
      { file: 'a.yaml', text: 'environments:\n  qa:\n    max_token_ttl: 60\n    colour: red\n' },
      { file: 'b.yaml', text: 'approvals:\n  - environment: qa\n    quorum: 1\n    groups: [sre]\n' },
    );
    expect(e.problems.map((p) => p.field)).toEqual(['environments.qa.colour']);
  });
});

describe('AWS capabilities', () => {
  it('must name an IAM role as their resource', () => {
    const e = faultOf('capabilities:\n  aws.x:\n    risk: read\n    resources:\n      staging: https://not-a-role.example/\n    provider:\n      type: aws\n      session_policy:\n        Version: "2012-10-17"\n        Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]\n');
    expect(e.field).toBe('capabilities.aws.x.resources');
  });
});

describe('grants', () => {
  it('unions registration templates with policy grants by name, id or *', () => {
    const p = compilePolicy([...defaults(), { file: 'g.yaml', text: 'grants:\n  - agents: [release-bot]\n    templates: [ops-maintenance]\n' }]);
    expect([...templatesFor(p, { id: 'agt_1', name: 'release-bot', templates: ['fix-credentials'] })].sort()).toEqual(['fix-credentials', 'ops-maintenance']);
    expect([...templatesFor(p, { id: 'agt_2', name: 'other', templates: [] })]).toEqual([]);
  });
});

describe('the Worker’s bundled policy', () => {
  it('is exactly policies/*.yaml (npm run policy:bundle)', async () => {
    const { POLICY_SOURCES } = await import('../src/runtime/cloudflare/policies.generated.js');
    expect(POLICY_SOURCES).toEqual(defaults().map((s) => ({ file: s.file, text: s.text })));
  });
});

describe('protected environments (issue 12, finding 13: the flag means what it says)', () => {
  it('refuses a protected environment whose approvals need fewer than two people, or allow the owner', () => {
    const one = faultOf(`environments:\n  vault: { protected: true, max_token_ttl: 60, task_ttl: 600 }\napprovals:\n  - { environment: vault, quorum: 1, groups: [sre], allow_owner: false, ttl: 600 }\n`);
    expect(one.message).toMatch(/"vault" is protected: its approvals need a quorum of at least 2/);
    const owner = faultOf(`environments:\n  vault: { protected: true, max_token_ttl: 60, task_ttl: 600 }\napprovals:\n  - { environment: vault, quorum: 2, groups: [sre], allow_owner: true, ttl: 600 }\n`);
    expect(owner.message).toMatch(/the agent's owner may not approve there/);
    // Unprotected, the same rule is fine.
    expect(() => compilePolicy([...defaults(), { file: 'x.yaml', text: `environments:\n  lab: { protected: false, max_token_ttl: 60, task_ttl: 600 }\napprovals:\n  - { environment: lab, quorum: 1, groups: [sre], allow_owner: true, ttl: 600 }\n` }])).not.toThrow();
  });
});
