import { StintError } from '../../core/errors.js';
import { ACCESS_TOKEN_TYPE, exchangeForCapability, type CapabilityRequest } from '../../core/exchange.js';
import { capabilityDetailsSchema, parseJsonParam, parseScope, parseWith } from '../schemas.js';
import { NO_STORE, type Grant } from './types.js';

/** A capability for a task: RFC 8693 token exchange of the task token, named by scope or RAR. */
export const tokenExchange: Grant = {
  grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
  async handle(c, { form, agent, jkt }) {
    const subjectToken = form.get('subject_token');
    if (!subjectToken) throw new StintError('invalid_request', 'subject_token is required');
    if (form.get('subject_token_type') !== ACCESS_TOKEN_TYPE) throw new StintError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (form.has('actor_token')) throw new StintError('invalid_request', 'actor_token is not supported');
    const { capabilities, locations } = capabilityRequest(form);
    const req: CapabilityRequest = { capabilities, locations, resource: form.get('resource'), requestedTokenType: form.get('requested_token_type') };
    const out = await exchangeForCapability(c.get('deps').core, agent, jkt, subjectToken, req);
    if (out.kind === 'provider') {
      // RFC 8693 §2.2.1: a token that is not an OAuth access token has token_type N_A.
      const { issued } = out;
      return c.json({ issued_token_type: out.issuedTokenType, token_type: 'N_A', access_token: issued.accessToken, expires_in: issued.expiresIn, ...issued.fields }, 200, NO_STORE);
    }
    const { token, claims, detail, ttl } = out;
    return c.json({ access_token: token, token_type: 'DPoP', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: ttl, scope: claims.scope, authorization_details: [detail] }, 200, NO_STORE);
  },
};

/** The capabilities a request names: `scope` or one `stint_capability` detail, not both. */
export function capabilityRequest(form: Map<string, string>): { capabilities: string[]; locations?: string[] } {
  const scope = form.get('scope');
  const details = form.get('authorization_details');
  if (scope !== undefined && details !== undefined) throw new StintError('invalid_request', 'send scope or authorization_details, not both');
  if (scope !== undefined) return { capabilities: [...new Set(parseScope(scope))] };
  if (details === undefined) throw new StintError('invalid_request', 'name the capability with scope or authorization_details');
  const [d] = parseWith(capabilityDetailsSchema, parseJsonParam(details, 'invalid_authorization_details', 'authorization_details'), 'invalid_authorization_details', 'authorization_details');
  if (!d) throw new StintError('invalid_authorization_details', 'authorization_details must hold one stint_capability');
  return { capabilities: [...new Set(d.actions)], locations: d.locations };
}
