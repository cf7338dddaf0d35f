import type { Core } from './context.js';
import type { StintClaims } from './tokens.js';
import { record } from './trajectory.js';

/** Revokes a token that turned up in the wrong hands. Its owner is not locked. */
export async function revokeLeaked(core: Core, leaked: StintClaims, actor: string, why: string) {
  await core.store.revocations.revokeToken(leaked.jti, leaked.exp * 1000 + 1000);
  await record(core, {
    taskId: leaked.task_id,
    kind: 'revoke',
    type: 'token.revoked',
    actor,
    detail: { jti: leaked.jti, token_use: leaked.token_use, agent: leaked.sub, environment: leaked.env, exp: leaked.exp, reason: `leaked: ${why}` },
  });
}
