import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsError, type AwsApi, type AwsRootCredentials } from '../../core/providers/aws/provider.js';

export interface AwsSdkOptions {
  /** STINT_AWS_ENDPOINT / STINT_AWS_IAM_ENDPOINT: an AWS-compatible endpoint, or a test double. */
  stsEndpoint?: string;
  iamEndpoint?: string;
  region?: string;
}

/** Maps the SDK's service exceptions to AwsError; network failures stay as they are. */
function mapped(e: unknown): never {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (err && err.$metadata?.httpStatusCode !== undefined) {
    throw new AwsError(err.name ?? 'UnknownError', err.message ?? 'AWS error', err.$metadata.httpStatusCode);
  }
  throw e;
}

/**
 * The AWS port on the official SDK (SigV4, the query protocol, retries). Root credentials are
 * always the ones the broker passes (from the vault, as policy names them): each client gets
 * them as a static value, so the SDK's default chain (environment, shared files, SSO, instance
 * metadata) is never consulted. A call without them is refused before any network.
 */
export function createAwsSdkProvider(o: AwsSdkOptions = {}): AwsApi {
  const region = (r?: string) => r ?? o.region ?? 'us-east-1';
  const creds = (c: AwsRootCredentials | undefined) => {
    if (!c?.accessKeyId || !c.secretAccessKey) throw new Error('no AWS root credential was passed: stint never uses the AWS SDK default credential chain');
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
  };
  return {
    async assumeRole(i) {
      const client = new STSClient({ region: region(i.region), endpoint: o.stsEndpoint, credentials: creds(i.credentials), maxAttempts: 2 });
      try {
        const out = await client.send(
          new AssumeRoleCommand({
            RoleArn: i.roleArn,
            RoleSessionName: i.roleSessionName,
            DurationSeconds: i.durationSeconds,
            Policy: i.sessionPolicy,
            Tags: i.tags,
            TransitiveTagKeys: i.transitiveTagKeys,
            SourceIdentity: i.sourceIdentity,
          }),
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new AwsError('InvalidResponse', 'AssumeRole returned no credentials', 502);
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      } catch (e) {
        if (e instanceof AwsError) throw e;
        return mapped(e);
      } finally {
        client.destroy();
      }
    },
    async putRolePolicy(i) {
      const client = new IAMClient({ region: region(i.region), endpoint: o.iamEndpoint, credentials: creds(i.credentials), maxAttempts: 3 });
      try {
        await client.send(new PutRolePolicyCommand({ RoleName: i.roleName, PolicyName: i.policyName, PolicyDocument: i.policyDocument }));
      } catch (e) {
        return mapped(e);
      } finally {
        client.destroy();
      }
    },
  };
}
