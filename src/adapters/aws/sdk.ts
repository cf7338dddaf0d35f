import { DeleteRolePolicyCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsError, type AwsApi, type AwsRootCredentials, type RoleCall } from '../../core/providers/aws/provider.js';

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
  /**
   * One IAM call, made once (`maxAttempts: 1`): the provider retries a failed put itself, with a
   * document recomputed for that attempt; the SDK would resend the stale one.
   */
  async function iam<T>(i: RoleCall, send: (c: IAMClient) => Promise<T>): Promise<T> {
    const client = new IAMClient({ region: region(i.region), endpoint: o.iamEndpoint, credentials: creds(i.credentials), maxAttempts: 1 });
    try {
      return await send(client);
    } catch (e) {
      return mapped(e);
    } finally {
      client.destroy();
    }
  }
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
      await iam(i, (c) => c.send(new PutRolePolicyCommand({ RoleName: i.roleName, PolicyName: i.policyName, PolicyDocument: i.policyDocument })));
    },
    async getRolePolicy(i) {
      try {
        const out = await iam(i, (c) => c.send(new GetRolePolicyCommand({ RoleName: i.roleName, PolicyName: i.policyName })));
        // IAM returns the document URL-encoded (RFC 3986).
        return out.PolicyDocument === undefined ? undefined : decodeURIComponent(out.PolicyDocument);
      } catch (e) {
        if (e instanceof AwsError && e.code === 'NoSuchEntityException') return undefined;
        if (e instanceof AwsError && e.code === 'NoSuchEntity') return undefined;
        throw e;
      }
    },
    async listRolePolicies(i) {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const out = await iam(i, (c) => c.send(new ListRolePoliciesCommand({ RoleName: i.roleName, Marker: marker })));
        names.push(...(out.PolicyNames ?? []));
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return names;
    },
    async deleteRolePolicy(i) {
      try {
        await iam(i, (c) => c.send(new DeleteRolePolicyCommand({ RoleName: i.roleName, PolicyName: i.policyName })));
      } catch (e) {
        if (e instanceof AwsError && /^NoSuchEntity/.test(e.code)) return;
        throw e;
      }
    },
  };
}
