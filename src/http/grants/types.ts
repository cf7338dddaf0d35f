import type { Context } from 'hono';
import type { AgentRecord } from '../../core/ports.js';
import type { BrokerEnv } from '../env.js';

/**
 * One grant of the token endpoint (after node-oidc-provider's lib/actions/grants): the
 * endpoint authenticates the client and verifies the DPoP proof once, then hands the request
 * to the grant its `grant_type` names. The registry (index.ts) is what the endpoint dispatches
 * on and what the RFC 8414 metadata lists.
 */
export interface Grant {
  grantType: string;
  handle(c: Context<BrokerEnv>, req: GrantRequest): Promise<Response>;
}

export interface GrantRequest {
  form: Map<string, string>;
  /** The authenticated client (private_key_jwt). */
  agent: AgentRecord;
  /** The thumbprint of the key the request's DPoP proof was signed with. */
  jkt: string;
}

/** Token responses are never cached (RFC 6749 §5.1). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
