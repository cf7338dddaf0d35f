import { Hono } from 'hono';
import { ACCEPTED_ALGS } from '../../core/dpop.js';
import type { BrokerEnv } from '../env.js';
import { GRANTS } from '../grants/index.js';

/** RFC 8414 metadata and the JWKS. */
export const metadataRoutes = new Hono<BrokerEnv>()
  .get('/.well-known/oauth-authorization-server', (c) => {
    const { core } = c.get('deps');
    const iss = core.issuer;
    return c.json(
      {
        issuer: iss,
        token_endpoint: `${iss}/token`,
        jwks_uri: `${iss}/.well-known/jwks.json`,
        introspection_endpoint: `${iss}/introspect`,
        revocation_endpoint: `${iss}/revoke`,
        backchannel_authentication_endpoint: `${iss}/bc-authorize`,
        backchannel_token_delivery_modes_supported: ['poll'],
        grant_types_supported: GRANTS.map((g) => g.grantType),
        response_types_supported: [],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ACCEPTED_ALGS,
        revocation_endpoint_auth_methods_supported: ['private_key_jwt'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
        dpop_signing_alg_values_supported: ACCEPTED_ALGS,
        authorization_details_types_supported: ['stint_task', 'stint_capability'],
        scopes_supported: Object.keys(core.policy.capabilities),
      },
      200,
      { 'Cache-Control': 'public, max-age=300' },
    );
  })
  .get('/.well-known/jwks.json', async (c) => {
    const { core } = c.get('deps');
    // The approval authority's public keys ride along (kid `approval.…`) so that resource
    // services verify grants from one JWKS; its private key is never here.
    const approval = core.approvals ? await core.approvals.jwks() : [];
    return c.json({ keys: [...core.keys.publicJwks(), ...approval] }, 200, { 'Cache-Control': 'public, max-age=60' });
  });
