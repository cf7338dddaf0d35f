import type { Core } from './context.js';
import type { StintClaims } from './tokens.js';
import { firstSighting, noteResighting } from './resightings.js';
import { record } from './trajectory.js';

/**
 * Revokes a token that turned up in the wrong hands; a leaked task token ends its task as
 * `revoked` (everything it holds dies). Its owner is not stopped or locked on that account.
 * The revocation is repeated at every sighting (idempotent), the record only at the first:
 * later sightings are counted (`resightings.ts`), off the owner's trajectory. Returns whether
 * this was the first.
 */
export async function revokeLeaked(core: Core, leaked: StintClaims, actor: string, why: string): Promise<boolean> {
  await core.store.revocations.revokeToken(leaked.jti, leaked.exp * 1000 + 1000);
  if (leaked.token_use === 'task') await core.store.tasks.end(leaked.task_id, 'revoked', `task token leaked: ${why}`.slice(0, 500));
  if (!(await firstSighting(core, leaked))) {
    noteResighting(core, leaked, `${actor}: ${why}`);
    return false;
  }
  await record(core, {
    taskId: leaked.task_id,
    kind: 'revoke',
    type: 'token.revoked',
    actor,
    detail: { jti: leaked.jti, token_use: leaked.token_use, agent: leaked.sub, environment: leaked.env, exp: leaked.exp, reason: `leaked: ${why}` },
  });
  return true;
}
