import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { AwsProviderPolicy, CapabilityPolicy } from './policy.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { parseScopeKey, scopeKey, type RevocationScope } from './scope.js';
import { record } from './trajectory.js';
import { readSecret } from './vault.js';

export const AWS_STS_TOKEN_TYPE = 'urn:stint:token-type:aws-sts';
/** STS's minimum, and the shortest a session can be. */
export const AWS_SESSION_SECONDS = 900;
/** Session tags stint sets; transitive, so role chaining keeps them. */
export const TAGS = { task: 'stint-task', environment: 'stint-environment', agent: 'stint-agent' } as const;

export interface AwsRootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  sessionPolicy: string;
  tags: { Key: string; Value: string }[];
  transitiveTagKeys: string[];
  sourceIdentity: string;
  credentials?: AwsRootCredentials;
  region?: string;
}

export interface AwsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** An error AWS answered with (its `Code`), as opposed to not answering. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** The AWS port: STS for sessions, IAM for the deny policy that revocation attaches. */
export interface AwsProvider {
  assumeRole(input: AssumeRoleInput): Promise<AwsSession>;
  putRolePolicy(input: { roleName: string; policyName: string; policyDocument: string; credentials?: AwsRootCredentials; region?: string }): Promise<void>;
}

async function rootCredentials(core: Core, p: AwsProviderPolicy): Promise<AwsRootCredentials | undefined> {
  if (!p.credentials) return undefined;
  const raw = await readSecret(core, p.credentials);
  try {
    const v = JSON.parse(raw) as { access_key_id?: unknown; secret_access_key?: unknown; session_token?: unknown };
    if (typeof v.access_key_id !== 'string' || typeof v.secret_access_key !== 'string') throw new Error();
    return { accessKeyId: v.access_key_id, secretAccessKey: v.secret_access_key, sessionToken: typeof v.session_token === 'string' ? v.session_token : undefined };
  } catch {
    // Never echo the secret: name it, say what is wrong with its shape.
    throw new StintError('temporarily_unavailable', `vault secret "${p.credentials}" must be JSON {access_key_id, secret_access_key}`);
  }
}

/**
 * Mints AWS credentials for one capability of one task: AssumeRole on the capability's role
 * (the resource of the task's environment), narrowed by its session policy, for the shortest
 * duration, with session tags naming task, environment and agent, SourceIdentity the agent,
 * and a session name that names the task. Nothing is recorded as issued unless AWS issued it.
 */
export async function issueAwsCredentials(core: Core, agent: AgentRecord, task: TaskRecord, cap: CapabilityPolicy) {
  if (!core.aws) throw new StintError('temporarily_unavailable', `${cap.name} maps to AWS, and no AWS provider is configured`);
  const provider = cap.provider!;
  const roleArn = cap.resources[task.environment]!;
  const input: AssumeRoleInput = {
    roleArn,
    roleSessionName: `stint-${task.id}`.slice(0, 64),
    durationSeconds: AWS_SESSION_SECONDS,
    sessionPolicy: JSON.stringify(provider.session_policy),
    tags: [
      { Key: TAGS.task, Value: task.id },
      { Key: TAGS.environment, Value: task.environment },
      { Key: TAGS.agent, Value: agent.id },
    ],
    transitiveTagKeys: [TAGS.task, TAGS.environment, TAGS.agent],
    sourceIdentity: agent.id,
    credentials: await rootCredentials(core, provider),
    region: provider.region,
  };
  let session: AwsSession;
  try {
    session = await core.aws.assumeRole(input);
  } catch (e) {
    await core.audit.append({ type: 'aws.session.failed', actor: agent.id, taskId: task.id, data: { capability: cap.name, role: roleArn, error: e instanceof AwsError ? e.code : 'unreachable' } });
    if (e instanceof AwsError && (e.status === undefined || e.status < 500)) {
      throw new StintError('invalid_target', `AWS STS refused AssumeRole on ${roleArn}: ${e.code}: ${e.message}`, { cause: e });
    }
    throw new StintError('temporarily_unavailable', 'AWS STS did not answer; nothing was issued', { cause: e });
  }
  const expiresAt = session.expiration.getTime();
  await core.store.providerSessions.add({ taskId: task.id, provider: 'aws', target: roleArn, expiresAt });
  await record(core, {
    taskId: task.id,
    kind: 'grant',
    type: 'aws.session.issued',
    actor: agent.id,
    detail: { capabilities: [cap.name], role: roleArn, session_name: input.roleSessionName, expiration: session.expiration.toISOString() },
  });
  return { session, expiresIn: Math.min(AWS_SESSION_SECONDS, Math.max(1, Math.floor((expiresAt - core.clock.now()) / 1000))) };
}

/** The role's name from its ARN (`…:role/path/name` → `name`). */
export const roleNameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * STS sessions cannot be revoked one by one, so revoking a task with live sessions attaches an
 * inline deny-all policy to each role it assumed, conditioned on the task's session tag.
 */
export async function denyTaskSessions(core: Core, taskId: string): Promise<number> {
  if (!core.aws) return 0;
  const live = await core.store.providerSessions.liveFor(taskId, core.clock.now());
  return denyOnRoles(core, live, `stint-revoked-${taskId}`, { StringEquals: { [`aws:PrincipalTag/${TAGS.task}`]: taskId } }, taskId);
}

/**
 * A scope revocation (an agent, an environment, everything) reaches AWS the same way: a deny on
 * every role with live sessions, for sessions tagged with that scope and issued at or before
 * the revocation.
 */
export async function denyScopeSessions(core: Core, scope: RevocationScope, epoch: number): Promise<number> {
  if (!core.aws) return 0;
  const issuedBefore = { DateLessThanEquals: { 'aws:TokenIssueTime': new Date(Math.floor(epoch / 1000) * 1000).toISOString() } };
  const condition =
    scope.kind === 'agent'
      ? { ...issuedBefore, StringEquals: { [`aws:PrincipalTag/${TAGS.agent}`]: scope.id } }
      : scope.kind === 'environment'
        ? { ...issuedBefore, StringEquals: { [`aws:PrincipalTag/${TAGS.environment}`]: scope.name } }
        : issuedBefore;
  const live = await core.store.providerSessions.live(core.clock.now());
  return denyOnRoles(core, live, `stint-revoked-${scopeKey(scope).replace(/[^\w+=,.@-]/g, '-')}-${Math.floor(epoch / 1000)}`, condition, null);
}

async function denyOnRoles(core: Core, sessions: { provider: string; target: string }[], policyName: string, condition: Record<string, unknown>, taskId: string | null) {
  const roles = [...new Set(sessions.filter((s) => s.provider === 'aws').map((s) => s.target))];
  for (const roleArn of roles) {
    const cap = Object.values(core.policy.capabilities).find((c) => c.provider?.type === 'aws' && Object.values(c.resources).includes(roleArn));
    const policyDocument = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'StintRevoked', Effect: 'Deny', Action: '*', Resource: '*', Condition: condition }] });
    await core.aws!.putRolePolicy({
      roleName: roleNameOf(roleArn),
      policyName: policyName.slice(0, 128),
      policyDocument,
      credentials: cap?.provider ? await rootCredentials(core, cap.provider) : undefined,
      region: cap?.provider?.region,
    });
    await core.audit.append({ type: 'aws.sessions.denied', actor: 'broker', taskId, data: { role: roleArn, policy: policyName } });
  }
  return roles.length;
}

/** Attaches deny policies whenever a task with AWS sessions ends, or a scope is revoked. */
export function startAwsRevocation(core: Core, log: (m: string) => void = console.error, track: (p: Promise<unknown>) => void = () => {}): () => void {
  if (!core.aws) return () => {};
  return core.events.subscribe((e) => {
    const ends = e.type === 'task.stopped' || e.type === 'task.revoked' || e.type === 'task.completed' || (e.type === 'token.revoked' && e.token_use === 'task');
    if (ends && e.task_id) track(denyTaskSessions(core, e.task_id).catch((err) => log(`AWS deny policy for ${e.task_id} failed: ${(err as Error).message}`)));
    const scope = e.type === 'scope.revoked' && typeof e.scope === 'string' ? parseScopeKey(e.scope) : undefined;
    if (scope && typeof e.epoch === 'number') {
      track(denyScopeSessions(core, scope, e.epoch).catch((err) => log(`AWS deny policy for ${String(e.scope)} failed: ${(err as Error).message}`)));
    }
  });
}
