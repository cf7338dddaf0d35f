import type { Policy } from '../../src/core/policy.js';
import { SignJWT } from 'jose';
import { createNodeApprovals } from '../../src/runtime/node/wire.js';
import { newKey, type KeyPair } from '../../src/client/proofs.js';
import { FrozenClock } from './clock.js';
import { ADMIN, ISSUER, testBroker } from './broker.js';
import { defaultPolicy } from './policy.js';

export const APPROVALS = 'http://localhost:8788';
export const APPROVAL_ADMIN = 'approval-admin-token-0123456789';

/**
 * The broker and the approval service, each with its own database and keys, talking to each
 * other through `app.request` instead of sockets, on one frozen clock.
 */
export async function testStack(o: { policy?: Policy; selfUrl?: string; origin?: string; webhookFetch?: typeof fetch } = {}) {
  const clock = new FrozenClock();
  let approvalsApp: { request: (url: string, init?: RequestInit) => Response | Promise<Response> } | undefined;
  const broker = await testBroker({ clock, approvalUrl: APPROVALS, approvalFetch: ((url: string, init?: RequestInit) => approvalsApp!.request(url, init)) as typeof fetch, policy: o.policy });
  const approvals = await createNodeApprovals({
    dbPath: ':memory:',
    policy: o.policy ?? defaultPolicy(),
    issuer: ISSUER,
    selfUrl: o.selfUrl ?? APPROVALS,
    origin: o.origin,
    webhookFetch: o.webhookFetch,
    brokerUrl: ISSUER,
    adminToken: APPROVAL_ADMIN,
    masterKey: new Uint8Array(32).fill(2),
    clock,
    fetch: ((url: string, init?: RequestInit) => broker.app.request(url, init)) as typeof fetch,
    rateLimit: false,
  });
  approvalsApp = approvals.app;
  const nowSec = () => Math.floor(clock.now() / 1000);

  /** Registers an approver and returns a client that signs its calls and decisions. */
  async function approver(name: string, groups = ['sre']) {
    const key = await newKey();
    const res = await approvals.app.request(`${APPROVALS}/v1/approvers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, groups, jwk: key.publicJwk }),
    });
    if (res.status !== 201) throw new Error(`approver registration: ${res.status} ${await res.text()}`);
    const { approver_id } = (await res.json()) as { approver_id: string };
    return approverClient(approver_id, key);
  }

  function approverClient(id: string, key: KeyPair) {
    const bearer = () =>
      new SignJWT({}).setProtectedHeader({ alg: key.alg }).setIssuer(id).setAudience(APPROVALS).setIssuedAt(nowSec()).setExpirationTime(nowSec() + 60).setJti(crypto.randomUUID()).sign(key.privateKey);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await approvals.app.request(`${APPROVALS}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await bearer()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const decisionJws = (approvalId: string, decision: 'approve' | 'deny', digest: string, jti = crypto.randomUUID()) =>
      new SignJWT({ approval_id: approvalId, decision, digest }).setProtectedHeader({ alg: key.alg }).setIssuedAt(nowSec()).setJti(jti).sign(key.privateKey);
    return {
      id,
      key,
      call,
      decisionJws,
      async decide(approvalId: string, decision: 'approve' | 'deny') {
        const { body } = await call('GET', `/v1/approvals/${approvalId}`);
        return call('POST', `/v1/approvals/${approvalId}/decision`, { decision_jws: await decisionJws(approvalId, decision, body.digest) });
      },
    };
  }

  return { clock, broker, approvals, approver, approverClient, nowSec, ADMIN };
}
