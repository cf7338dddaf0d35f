import { z } from 'zod';

/**
 * The policy block of each credential provider (core/providers/), told apart by `type`.
 * Adding a provider: its folder under core/providers/, its schema here, one line in the union.
 */
export const awsProviderSchema = z
  .strictObject({
    type: z.literal('aws'),
    session_policy: z
      .strictObject({ Version: z.literal('2012-10-17'), Statement: z.array(z.record(z.string(), z.unknown())).min(1) })
      .describe('the IAM session policy that narrows the role to this capability'),
    credentials: z.string().regex(/^[a-z][a-z0-9_.-]*$/).optional().describe('vault secret holding {access_key_id, secret_access_key}; without it the capability is refused (never the AWS SDK default chain)'),
    region: z.string().regex(/^[a-z0-9-]+$/).optional(),
  })
  .describe('AWS STS AssumeRole: the resource of each environment is the role ARN');


export const providerSchema = z.discriminatedUnion('type', [awsProviderSchema]);
