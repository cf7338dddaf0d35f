import type { Core } from '../../context.js';
import { StintError } from '../../errors.js';
import type { CapabilityPolicy, ProviderPolicy } from '../../policy.js';
import type { AgentRecord, TaskRecord } from '../../ports.js';
import { record } from '../../trajectory.js';
import { readSecret } from '../../vault.js';
import type { CredentialProvider } from '../types.js';
import { allScope, scopeKey, type RevocationScope } from '../../scope.js';

/** A capability that is a real AWS credential: AssumeRole narrowed by a session policy. */
export interface AwsProviderPolicy extends ProviderPolicy {
  type: 'aws';
  session_policy: { Version: string; Statement: Record<string, unknown>[] };
  /**
   * Vault secret with the root credentials. Without it the capability is refused: stint never
   * falls back to the AWS SDK's default chain (environment, files, instance metadata).
   */
  credentials?: string;
  region?: string;
}
/** The policy validated the block against the AWS schema (src/policy/providers.ts). */
const awsPolicyOf = (p: ProviderPolicy | undefined): AwsProviderPolicy | undefined => (p?.type === 'aws' ? (p as AwsProviderPolicy) : undefined);

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
  /** Always the configured root credential: the adapter never looks for one of its own. */
  credentials: AwsRootCredentials;
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

/** Which role, and with which credentials, an IAM call is made. */
export interface RoleCall {
  roleName: string;
  credentials?: AwsRootCredentials;
  region?: string;
}

/**
 * The AWS port (the SDK adapter): STS for sessions, IAM for the deny policy that revocation
 * keeps. The IAM calls are made once each: no retry inside the adapter (a retried put would send
 * a document computed before the failure; the provider recomputes before each attempt).
 */
export interface AwsApi {
  assumeRole(input: AssumeRoleInput): Promise<AwsSession>;
  putRolePolicy(input: RoleCall & { policyName: string; policyDocument: string }): Promise<void>;
  /** The inline policy's document as JSON text (URL-decoded), or undefined if the role has none by that name. */
  getRolePolicy(input: RoleCall & { policyName: string }): Promise<string | undefined>;
  listRolePolicies(input: RoleCall): Promise<string[]>;
  /** Deletes an inline policy; one already gone is no error. */
  deleteRolePolicy(input: RoleCall & { policyName: string }): Promise<void>;
}

/** The message when a capability names no root credential (exported for the tests and the docs). */
export const noRootCredential = (capability: string) =>
  `${capability} names no AWS root credential: set "credentials: <vault secret>" in its provider block and store {access_key_id, secret_access_key} under that name (POST /v1/secrets); stint never falls back to the AWS SDK's default credential chain`;

/** The configured root credential, or a refusal at once (no call to AWS) when there is none. */
async function rootCredentials(core: Core, p: AwsProviderPolicy, capability: string): Promise<AwsRootCredentials> {
  if (!p.credentials) throw new StintError('temporarily_unavailable', noRootCredential(capability));
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
async function issueAwsCredentials(api: AwsApi, core: Core, agent: AgentRecord, task: TaskRecord, cap: CapabilityPolicy) {
  const provider = awsPolicyOf(cap.provider);
  if (!provider) throw new StintError('invalid_request', `${cap.name} is not an AWS capability`);
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
    credentials: await rootCredentials(core, provider, cap.name).catch(async (e) => {
      await core.audit.append({ type: 'aws.session.failed', actor: agent.id, taskId: task.id, data: { capability: cap.name, role: roleArn, error: 'no_root_credential' } });
      throw e;
    }),
    region: provider.region,
  };
  let session: AwsSession;
  try {
    session = await api.assumeRole(input);
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

/** The one inline policy stint keeps on each role it assumes: every deny still needed, rewritten whole. */
export const REVOCATION_POLICY = 'stint-revocations';
/** IAM's limit on a role's inline policies, characters. */
const IAM_POLICY_LIMIT = 10_240;

const scopeCondition = (scope: RevocationScope, epoch: number) => {
  const issuedBefore = { DateLessThanEquals: { 'aws:TokenIssueTime': new Date(Math.floor(epoch / 1000) * 1000).toISOString() } };
  if (scope.kind === 'agent') return { ...issuedBefore, StringEquals: { [`aws:PrincipalTag/${TAGS.agent}`]: scope.id } };
  if (scope.kind === 'environment') return { ...issuedBefore, StringEquals: { [`aws:PrincipalTag/${TAGS.environment}`]: scope.name } };
  return issuedBefore;
};

/**
 * The deny policy a role needs now. STS sessions cannot be revoked one by one, so the role
 * carries a deny for every session that may still be live and should not be: those of ended
 * tasks (by task tag) and those issued before a scope revocation (by tag and issue time).
 * Entries older than the longest session are pruned: every session they cover has expired.
 * Rewritten whole on each change, it stays one policy whatever the number of tasks; if it
 * would still exceed IAM's limit, it denies every session issued until now (errs toward revoking).
 */
async function denyPolicyFor(core: Core, roleArn: string): Promise<string | undefined> {
  const now = core.clock.now();
  const live = (await core.store.providerSessions.live(now)).filter((s) => s.provider === 'aws' && s.target === roleArn);
  const ended: string[] = [];
  for (const taskId of new Set(live.map((s) => s.taskId))) {
    const task = await core.store.tasks.get(taskId);
    if (task?.status !== 'active') ended.push(taskId);
  }
  const scopes = await core.store.revocations.epochsSince(now - AWS_SESSION_SECONDS * 1000);
  const statements: Record<string, unknown>[] = [];
  if (ended.length) statements.push({ Sid: 'StintEndedTasks', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { [`aws:PrincipalTag/${TAGS.task}`]: ended.sort() } } });
  scopes.sort((a, b) => scopeKey(a.scope).localeCompare(scopeKey(b.scope))).forEach((s, i) => statements.push({ Sid: `StintScope${i}`, Effect: 'Deny', Action: '*', Resource: '*', Condition: scopeCondition(s.scope, s.epoch) }));
  if (statements.length === 0) return undefined;
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  if (doc.length <= IAM_POLICY_LIMIT) return doc;
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'StintAll', Effect: 'Deny', Action: '*', Resource: '*', Condition: scopeCondition(allScope, now) }] });
}

/** Earlier versions kept one inline policy per ended task or scope (`stint-revoked-…`); they count against the role's size limit. */
export const LEGACY_POLICY_PREFIX = 'stint-revoked-';

export interface AwsProviderOptions {
  /** Waits between attempts at a role's deny policy when IAM fails transiently (ms; its length bounds the attempts). */
  retryDelaysMs?: number[];
  sleep?: (ms: number) => Promise<void>;
}
const DEFAULT_RETRY_DELAYS_MS = [250, 1_000, 4_000];
/** Rounds of put-then-read-back before a role is declared unsettled. */
const SETTLE_ROUNDS = 3;

/** An IAM failure worth another attempt: no answer, a 5xx, throttling. */
const transient = (e: unknown) =>
  !(e instanceof AwsError) || e.status === undefined || e.status >= 500 || e.status === 429 || /thrott|ratelimit|requestlimitexceeded/i.test(e.code);
const errorCode = (e: unknown) => (e instanceof AwsError ? `${e.code}${e.status ? ` (${e.status})` : ''}` : `unreachable: ${(e as Error)?.message ?? String(e)}`.slice(0, 200));
const sameDocument = (a: string | undefined, b: string | undefined) => {
  try {
    return a !== undefined && b !== undefined && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

/**
 * Keeps each role's one deny policy right, one role at a time.
 *
 * - **Serialised per role**: one pass at a time; requests that arrive while a pass waits its
 *   turn join it (coalesced: the pass computes from the database when it starts, so it covers
 *   them all). Passes for one role never race each other's `PutRolePolicy` within a broker.
 * - **Recomputed before each attempt**: a transient failure is retried here, never inside the
 *   SDK, and each attempt sends the document as the database stands at that moment — a retry
 *   never sends a document that predates a revocation made meanwhile.
 * - **Re-checked after the put**: the role's document is read back and compared with what is
 *   wanted now; a difference (another broker's put on a shared database, a task that ended
 *   during the put) is another round. What does not settle is an error: audited by the
 *   provider registry (`provider.revocation_failed`) and shown on readiness.
 * - **Every failed attempt is audited** (`aws.sessions.deny_failed`), so a revocation that held
 *   only at the third try is still visible.
 * - Once a role is settled, the per-task policies of earlier versions are deleted from it.
 */
function roleLanes(api: AwsApi, o: AwsProviderOptions) {
  const delays = o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const lanes = new Map<string, { tail: Promise<void>; waiting?: { causes: Set<string>; taskId: string | null; done: Promise<void> } }>();
  const cleaned = new Set<string>();

  async function settings(core: Core, roleArn: string): Promise<RoleCall> {
    const cap = Object.values(core.policy.capabilities).find((c) => c.provider?.type === 'aws' && Object.values(c.resources).includes(roleArn));
    const p = awsPolicyOf(cap?.provider);
    if (!cap || !p) throw new StintError('temporarily_unavailable', `no AWS capability of the policy names ${roleArn}: there is no root credential to deny its sessions with`);
    return { roleName: roleNameOf(roleArn), credentials: await rootCredentials(core, p, cap.name), region: p.region };
  }

  /** One put with the document as it stands now, retried (recomputed) on transient failures. */
  async function putFresh(core: Core, roleArn: string, call: RoleCall, causes: string[], taskId: string | null): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      const policyDocument = await denyPolicyFor(core, roleArn);
      if (!policyDocument) return undefined;
      try {
        await api.putRolePolicy({ ...call, policyName: REVOCATION_POLICY, policyDocument });
        return policyDocument;
      } catch (e) {
        await core.audit.append({ type: 'aws.sessions.deny_failed', actor: 'broker', taskId, data: { role: roleArn, policy: REVOCATION_POLICY, for: causes, attempt: attempt + 1, error: errorCode(e) } });
        if (!transient(e) || attempt >= delays.length) throw e;
        await sleep(delays[attempt]!);
      }
    }
  }

  async function pass(core: Core, roleArn: string, causes: string[], taskId: string | null) {
    const call = await settings(core, roleArn);
    for (let round = 1; round <= SETTLE_ROUNDS; round++) {
      const put = await putFresh(core, roleArn, call, causes, taskId);
      if (put === undefined) return; // nothing left to deny
      const [held, wanted] = [await api.getRolePolicy({ ...call, policyName: REVOCATION_POLICY }), await denyPolicyFor(core, roleArn)];
      if (sameDocument(held, wanted) || (wanted === undefined && sameDocument(held, put))) {
        await core.audit.append({ type: 'aws.sessions.denied', actor: 'broker', taskId, data: { role: roleArn, policy: REVOCATION_POLICY, for: causes.length === 1 ? causes[0] : causes, rounds: round } });
        await cleanLegacy(core, roleArn, call);
        return;
      }
    }
    throw new Error(`the deny policy on ${roleArn} did not settle after ${SETTLE_ROUNDS} rounds (another writer, or IAM not yet consistent)`);
  }

  async function cleanLegacy(core: Core, roleArn: string, call: RoleCall) {
    if (cleaned.has(roleArn)) return;
    try {
      const legacy = (await api.listRolePolicies(call)).filter((n) => n.startsWith(LEGACY_POLICY_PREFIX));
      for (const policyName of legacy) await api.deleteRolePolicy({ ...call, policyName });
      if (legacy.length) await core.audit.append({ type: 'aws.legacy_policies_removed', actor: 'broker', data: { role: roleArn, policies: legacy } });
      cleaned.add(roleArn);
    } catch (e) {
      // Left for the next pass: the one policy already denies what they denied.
      await core.audit.append({ type: 'aws.legacy_policies_failed', actor: 'broker', data: { role: roleArn, error: errorCode(e) } });
    }
  }

  return {
    /** Resolves once a pass that started after this call has settled the role (or rejects with why not). */
    request(core: Core, roleArn: string, cause: string, taskId: string | null): Promise<void> {
      let lane = lanes.get(roleArn);
      if (!lane) lanes.set(roleArn, (lane = { tail: Promise.resolve() }));
      if (lane.waiting) {
        lane.waiting.causes.add(cause);
        return lane.waiting.done;
      }
      const l = lane;
      const waiting = { causes: new Set([cause]), taskId, done: Promise.resolve() };
      waiting.done = l.tail.then(() => {
        if (l.waiting === waiting) l.waiting = undefined; // started: later requests need a later pass
        return pass(core, roleArn, [...waiting.causes], waiting.causes.size === 1 ? waiting.taskId : null);
      });
      l.waiting = waiting;
      const tail = waiting.done.catch(() => undefined);
      l.tail = tail;
      void tail.then(() => {
        if (l.tail === tail && !l.waiting) lanes.delete(roleArn);
      });
      return waiting.done;
    },
    /** Resolves when no pass is running or waiting (tests; a graceful stop). */
    async idle(): Promise<void> {
      while (lanes.size > 0) await Promise.all([...lanes.values()].map((l) => l.tail));
    },
  };
}

async function rewriteRolePolicies(lanes: ReturnType<typeof roleLanes>, core: Core, roles: string[], cause: string, taskId: string | null) {
  const results = await Promise.allSettled(roles.map((r) => lanes.request(core, r, cause, taskId)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const rolesOf = (sessions: { provider: string; target: string }[]) => [...new Set(sessions.filter((s) => s.provider === 'aws').map((s) => s.target))];

/** AWS STS as a credential provider over the AWS port (the SDK on Node and Workers, a fake in tests). */
export function awsProvider(api: AwsApi, o: AwsProviderOptions = {}): CredentialProvider & { idle(): Promise<void> } {
  const lanes = roleLanes(api, o);
  return {
    idle: () => lanes.idle(),
    type: 'aws',
    issuedTokenType: AWS_STS_TOKEN_TYPE,
    async issue(core, { agent, task, capability }) {
      const { session, expiresIn } = await issueAwsCredentials(api, core, agent, task, capability);
      return {
        accessToken: session.sessionToken,
        expiresIn,
        fields: { aws: { access_key_id: session.accessKeyId, secret_access_key: session.secretAccessKey, session_token: session.sessionToken, expiration: session.expiration.toISOString() } },
      };
    },
    async revokeTask(core, taskId) {
      const live = await core.store.providerSessions.liveFor(taskId, core.clock.now());
      await rewriteRolePolicies(lanes, core, rolesOf(live), taskId, taskId);
    },
    async revokeScope(core, scope) {
      const live = await core.store.providerSessions.live(core.clock.now());
      await rewriteRolePolicies(lanes, core, rolesOf(live), scopeKey(scope), null);
    },
  };
}
