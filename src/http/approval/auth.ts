import { createMiddleware } from 'hono/factory';
import { authenticateApprover, isBrokerToken } from '../../core/approvals/approvers.js';
import { timingSafeEqual } from '../../core/encoding.js';
import { StintError } from '../../core/errors.js';
import { signInternal } from '../../core/internal.js';
import type { ApprovalDeps, ApprovalEnv } from './env.js';

/**
 * Approvers' calls: a request JWT by the approver's own key sets `approver`. Agent credentials
 * are refused loudly: the broker hears of the token presented here.
 */
export const requireApprover = createMiddleware<ApprovalEnv>(async (c, next) => {
  const deps = c.get('deps');
  const auth = c.req.header('Authorization') ?? '';
  const presented = /^(bearer|dpop) /i.test(auth) ? auth.replace(/^\S+\s+/, '').trim() : '';
  if (presented && (await isBrokerToken(deps.core, presented))) {
    // The proof goes along exactly as received; its htu is judged against this service's
    // configured URL, never the Host header.
    const htu = `${deps.core.selfUrl}${new URL(c.req.url).pathname}`;
    await reportAgentCredential(deps, { token: presented, dpop: c.req.header('DPoP'), htm: c.req.method, htu });
    throw new StintError('forbidden', 'agent credentials are not accepted by the approval service; the broker has been told');
  }
  c.set('approver', await authenticateApprover(deps.core, auth));
  await next();
});

/** The approval admin's bearer (STINT_APPROVAL_ADMIN_TOKEN), never the operator's. */
export const requireApprovalAdmin = createMiddleware<ApprovalEnv>(async (c, next) => {
  await assertApprovalAdmin(c.get('deps'), c.req.header('Authorization'));
  await next();
});

export async function assertApprovalAdmin(deps: ApprovalDeps, authorization: string | undefined): Promise<void> {
  const auth = authorization ?? '';
  if (!/^bearer /i.test(auth) || !(await timingSafeEqual(auth.slice(7).trim(), deps.adminToken))) {
    throw new StintError('unauthorized', 'approval admin credential required (Bearer STINT_APPROVAL_ADMIN_TOKEN)');
  }
}

async function reportAgentCredential(deps: ApprovalDeps, seen: { token: string; dpop?: string; htm: string; htu: string }) {
  const { core } = deps;
  const jwt = await signInternal(core.keys, core.selfUrl, core.issuer, { op: 'agent_credential', ...seen }, core.clock.now());
  try {
    await (deps.fetch ?? fetch)(`${deps.brokerUrl.replace(/\/+$/, '')}/internal/approval`, { method: 'POST', headers: { 'Content-Type': 'application/jwt' }, body: jwt, signal: AbortSignal.timeout(5_000) });
  } catch {
    // Not retried: if the broker cannot be reached the report is lost (the refusal stands, and
    // this service's audit log below records that an agent credential was shown here).
  }
  await core.audit.append({ type: 'approval.agent_credential_refused', actor: 'approval-service', data: {} }).catch(() => undefined);
}
