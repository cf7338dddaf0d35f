import { pollGrant } from '../../core/ciba.js';
import { StintError } from '../../core/errors.js';
import { ACCESS_TOKEN_TYPE } from '../../core/exchange.js';
import { NO_STORE, type Grant } from './types.js';

/** Poll an approval (OpenID CIBA, poll mode): the single-use grant once approvers have said yes. */
export const ciba: Grant = {
  grantType: 'urn:openid:params:grant-type:ciba',
  async handle(c, { form, agent, jkt }) {
    const authReqId = form.get('auth_req_id');
    if (!authReqId || authReqId.length > 100) throw new StintError('invalid_request', 'auth_req_id is required');
    const grant = await pollGrant(c.get('deps').core, agent, jkt, authReqId);
    return c.json(
      { access_token: grant.access_token, token_type: 'DPoP', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: grant.expires_in, scope: grant.scope, authorization_details: grant.authorization_details },
      200,
      NO_STORE,
    );
  },
};
