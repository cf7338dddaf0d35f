import { z } from 'zod';
import { shadowOnlyRuleNames, stopRuleNames } from '../core/rules/registry.js';
import { providerSchema } from './providers.js';

/**
 * The shape of one policy file. Several files under `policies/` are merged; each top-level
 * section is optional in any one file. `policies/schema.json` is generated from this
 * (`npm run policy:schema`) and a test keeps the two equal.
 */
const name = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lowercase letters, digits, - and _');
const capabilityName = z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lowercase letters, digits, ., - and _');
const seconds = (max: number) => z.number().int().min(1).max(max);
const hostPattern = z.string().regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a host name, optionally starting with "*."');

export const environmentSchema = z.strictObject({
  description: z.string().optional(),
  protected: z.boolean().default(false),
  max_token_ttl: seconds(3600).describe('cap on a capability token lifetime, seconds'),
  task_ttl: seconds(86_400).default(3600).describe('hard lifetime of a task, seconds'),
  hosts: z
    .array(hostPattern)
    .default([])
    .describe('host names that belong to this environment; "*.staging.example" matches any subdomain'),
});

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export const capabilitySchema = z
  .strictObject({
    description: z.string().optional(),
    risk: z.enum(['read', 'write', 'destructive']),
    resources: z
      .record(name, z.url({ protocol: /^(https?|arn)$/ }))
      .refine((r) => Object.keys(r).length > 0, 'at least one environment → resource URI')
      .describe('environment name → resource URI (the token audience; an IAM role ARN for AWS)'),
    provider: providerSchema.optional(),
  })
  .refine((c) => c.provider?.type !== 'aws' || Object.values(c.resources).every((r) => ROLE_ARN.test(r)), {
    message: 'an AWS capability names an IAM role ARN as the resource of each environment',
    path: ['resources'],
  });

export const templateSchema = z.strictObject({
  description: z.string().optional(),
  environments: z.array(name).min(1),
  ceiling: z.array(capabilityName).min(1).describe('every capability a task of this template may ever receive'),
  task_ttl: seconds(86_400).optional(),
});

export const grantSchema = z.strictObject({
  agents: z.array(z.string().min(1)).min(1).describe('agent names or client ids; "*" for all'),
  templates: z.array(name).min(1),
});

export const approvalSchema = z.strictObject({
  environment: name,
  quorum: z.number().int().min(1).max(10),
  groups: z.array(z.string().min(1)).min(1),
  allow_owner: z.boolean().default(false),
  ttl: seconds(86_400).default(600),
});

const ruleAction = z.enum(['stop', 'refuse']);
const mode = z.enum(['enforce', 'shadow']).describe('shadow: on the tool-call path, decisions are recorded as would_block / would_stop and the call is allowed');
const ruleSetting = z.union([
  ruleAction,
  z.strictObject({ action: ruleAction.default('stop'), lock_agent: z.boolean().optional().describe("whether a stop locks the agent (default: the rule's own)"), mode: mode.optional() }),
]);
const shadowOnly = z.strictObject({ mode });
/**
 * One entry per stopping rule of the registry (`stop | refuse`, lock, mode), and per refusing rule
 * of the tool-call path (its mode only): adding a rule there adds it here.
 */
const ruleSettings = z.strictObject({
  ...(Object.fromEntries(stopRuleNames().map((n) => [n, ruleSetting.default('stop')])) as Record<string, z.ZodDefault<typeof ruleSetting>>),
  ...(Object.fromEntries(shadowOnlyRuleNames().map((n) => [n, shadowOnly.optional()])) as Record<string, z.ZodOptional<typeof shadowOnly>>),
});
export const trajectorySchema = z.strictObject({
  window: seconds(86_400).default(600),
  max_recent_failures: z.number().int().min(1).max(1000).default(2),
  rules: ruleSettings.prefault({}),
});

/**
 * Action matchers: how the tool-call path (`stint guard`, the AuthZEN endpoint) tells which
 * capability a call exercises. Exactly one of `http`, `graphql`, `sql`, `command`, `mcp` per matcher.
 * The environment comes from the call's host (environments' `hosts`); a call whose environment
 * cannot be told counts as the most protected environment.
 */
export const SQL_STATEMENTS = ['drop_database', 'drop_table', 'truncate', 'delete_without_where', 'update_without_where', 'drop_schema'] as const;
export const actionSchema = z
  .strictObject({
    capability: capabilityName,
    description: z.string().optional(),
    http: z
      .strictObject({
        methods: z.array(z.string().regex(/^[A-Z]+$/)).min(1).describe('HTTP methods, upper case'),
        path: z.string().regex(/^\//).describe('a path prefix; "/volumes/" matches "/volumes/v1"'),
        hosts: z.array(hostPattern).optional().describe('hosts it applies to; default: every host of an environment'),
      })
      .optional(),
    graphql: z
      .strictObject({
        hosts: z.array(hostPattern).optional().describe('GraphQL endpoints it applies to; default: any host'),
        mutations: z.array(z.string().regex(/^[_A-Za-z][_0-9A-Za-z]*$/)).min(1).describe('mutation field names'),
      })
      .optional(),
    sql: z.strictObject({ statements: z.array(z.enum(SQL_STATEMENTS)).min(1) }).optional(),
    command: z
      .strictObject({
        argv: z.array(z.string().min(1)).min(1).describe('the leading words of the command line, options skipped ("railway", "volume", "delete")'),
        flags: z.array(z.string().regex(/^-/)).optional().describe('all of these options must also be present'),
      })
      .optional(),
    mcp: z
      .strictObject({
        server: z.string().min(1).describe('the MCP server name as the harness calls it, or "*"'),
        tool: z.string().min(1).describe('the tool name, or "*"'),
        environment: name.optional().describe('the environment the tool acts on; default: cannot be told (the most protected)'),
      })
      .optional(),
    mode: mode.optional(),
  })
  .refine((a) => [a.http, a.graphql, a.sql, a.command, a.mcp].filter(Boolean).length === 1, { message: 'exactly one of http, graphql, sql, command, mcp' });

/** What `stint run`'s egress proxy may reach: tunnelled (`allow`) or read (`inspect`). */
export const egressSchema = z.strictObject({
  allow: z.array(hostPattern).max(500).default([]),
  inspect: z.array(hostPattern).max(500).default([]),
});

export const policyFileSchema = z.strictObject({
  mode: mode.optional().describe('shadow: the whole tool-call path records would_block / would_stop and allows the call (one file says it for the policy)'),
  environments: z.record(name, environmentSchema).optional(),
  capabilities: z.record(capabilityName, capabilitySchema).optional(),
  templates: z.record(name, templateSchema).optional(),
  grants: z.array(grantSchema).optional(),
  approvals: z.array(approvalSchema).optional(),
  trajectory: trajectorySchema.optional(),
  actions: z.array(actionSchema).optional(),
  local: z
    .strictObject({
      hosts: z.array(z.union([hostPattern, z.ipv4(), z.ipv6()])).optional().describe('hosts that are this machine (besides localhost, 127.0.0.1, ::1, *.localhost)'),
    })
    .optional()
    .describe('environment "local": workspace files and databases on this machine; actions there are not another environment'),
  egress: egressSchema.optional(),
});

export type PolicyFile = z.output<typeof policyFileSchema>;

export function policyJsonSchema(): unknown {
  return {
    $id: 'https://stint.dev/schemas/policy.json',
    title: 'stint policy file',
    ...z.toJSONSchema(policyFileSchema, { io: 'input' }),
  };
}
