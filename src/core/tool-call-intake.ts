import type { Core } from './context.js';
import { credentialDigest } from './fingerprints.js';
import { revokeLeaked } from './substitution.js';
import type { SeenCredential, ToolCallFacts } from './tool-call.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';

/**
 * What the broker makes of a tool call's credentials before any rule reads them:
 * - every digest the caller sent becomes the keyed fingerprint that is recorded (nothing unkeyed
 *   reaches a rule's reason, the trajectory or the audit log; core/fingerprints.ts);
 * - a stint token the caller handed over whole is verified here (signature, issuer): one of this
 *   task's own is not a foreign credential at all; another task's has leaked (CONTRACT.md, "Stop
 *   events, precisely": seen without proof of its own key) and is revoked, its owner neither
 *   stopped nor locked. A token that does not verify revokes nothing, whatever it names: a third
 *   party cannot forge its way to revoking an innocent agent's token. It stays a credential the
 *   call uses, which the rules judge like any other. The token itself is never kept.
 */
export async function intake(core: Core, claims: StintClaims, facts: ToolCallFacts): Promise<ToolCallFacts> {
  const leaked = new Map<string, StintClaims>();
  const take = async (list: SeenCredential[]): Promise<SeenCredential[]> => {
    const out: SeenCredential[] = [];
    for (const { token, ...c } of list) {
      let digest = c.fingerprint;
      if (token) {
        const t = await verifyStintToken(core, token, { allowExpired: true }).catch(() => undefined);
        if (t && t.task_id === claims.task_id && t.sub === claims.sub) continue; // the task's own
        if (t) {
          leaked.set(t.jti, t);
          digest = credentialDigest(token); // the broker's own digest of what it verified
        }
      }
      out.push({ ...c, fingerprint: core.fingerprint(digest) });
    }
    return out;
  };
  const credentials = await take(facts.credentials);
  const exposed = await take(facts.exposed);
  for (const t of leaked.values()) await revokeLeaked(core, t, claims.sub, `seen in a tool call of task ${claims.task_id}`);
  return { ...facts, credentials, exposed, ...(facts.callHash ? { callHash: core.fingerprint(facts.callHash) } : {}) };
}
