import { describe, expect, it } from 'vitest';
import { classifyEnvironment, environmentServedBy, hostMatches } from '../src/core/environments.js';
import type { Policy } from '../src/core/policy.js';
import { classifyCalls } from '../src/core/tool-call.js';
import { defaultPolicy } from './helpers/policy.js';

const policy = defaultPolicy();

describe('which environment a URL or host serves (one classifier for broker, guard and egress)', () => {
  it('tells the default policy’s environments by origin, by URL under a resource, by hosts pattern and by bare host', () => {
    expect(environmentServedBy(policy, 'https://api.production.example')).toBe('production');
    expect(environmentServedBy(policy, 'https://api.production.example/')).toBe('production');
    expect(environmentServedBy(policy, 'https://api.production.example/config')).toBe('production');
    expect(environmentServedBy(policy, 'https://api.production.example/config/x?y=1')).toBe('production');
    expect(environmentServedBy(policy, 'https://API.Production.Example./volumes/1')).toBe('production');
    expect(environmentServedBy(policy, 'https://billing.production.example:8443/v2')).toBe('production');
    expect(environmentServedBy(policy, 'api.staging.example')).toBe('staging');
    expect(environmentServedBy(policy, 'db.staging.example:5432')).toBe('staging');
    // An AWS role ARN is a resource named exactly.
    expect(environmentServedBy(policy, 'arn:aws:iam::000000000000:role/stint-demo-reader')).toBe('staging');
  });

  it('a target no environment claims serves none; a pattern is not its parent domain', () => {
    for (const t of ['https://unmapped.example/api', 'unmapped.example', 'production.example', 'https://production.example.evil.test/', 'arn:aws:iam::1:role/x', '', 'not a url', undefined]) {
      expect(environmentServedBy(policy, t as string | undefined), String(t)).toBeUndefined();
    }
    expect(hostMatches('*.production.example', 'api.production.example')).toBe(true);
    expect(hostMatches('*.production.example', 'xproduction.example')).toBe(false);
  });

  it('on a host shared by environments, the resource path decides; where it cannot, the target is ambiguous', () => {
    const shared: Policy = {
      ...policy,
      environments: { staging: { ...policy.environments.staging!, hosts: [] }, production: { ...policy.environments.production!, hosts: [] } },
      capabilities: {
        'config.read': { name: 'config.read', risk: 'read', resources: { staging: 'https://api.example/staging/config', production: 'https://api.example/prod/config' } },
      },
    };
    expect(environmentServedBy(shared, 'https://api.example/staging/config/x')).toBe('staging');
    expect(environmentServedBy(shared, 'https://api.example/prod/config')).toBe('production');
    // `/prod/configx` is not under `/prod/config`; the host alone claims both.
    expect(classifyEnvironment(shared, 'https://api.example/prod/configx')).toEqual({ environment: undefined, candidates: ['production', 'staging'] });
    expect(classifyEnvironment(shared, 'https://api.example')).toEqual({ environment: undefined, candidates: ['production', 'staging'] });
    // A host named only by a resource URI is that environment's, for the guard too.
    const onlyResources: Policy = { ...shared, capabilities: { x: { name: 'x', risk: 'read', resources: { production: 'https://prod-api.example/x' } } } };
    expect(environmentServedBy(onlyResources, 'prod-api.example')).toBe('production');
  });

  it('the tool-call path tells environments with it: a DELETE on a host several environments claim counts as destructive, environment untold', () => {
    const overlapping: Policy = {
      ...policy,
      environments: { staging: { ...policy.environments.staging!, hosts: ['*.example'] }, production: { ...policy.environments.production!, hosts: ['*.example'] } },
    };
    const [hit] = classifyCalls(overlapping, [{ type: 'http', method: 'DELETE', host: 'api.example', path: '/volumes/1' }]);
    expect(hit).toMatchObject({ capability: 'volume.delete', environment: undefined });
    const [prod] = classifyCalls(policy, [{ type: 'http', method: 'DELETE', host: 'api.production.example', path: '/volumes/1' }]);
    expect(prod).toMatchObject({ capability: 'volume.delete', environment: 'production' });
  });
});
