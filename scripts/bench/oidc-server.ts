// oidc-provider configured for the closest equivalent of a stint capability mint:
// client_credentials with private_key_jwt (EdDSA), DPoP, and a JWT access token (EdDSA) for one
// resource via resource indicators. In memory, no persistence. Prints its URL when listening.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const clientJwk = JSON.parse(process.argv[3]!) as JWK;
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.staging.example/config';
const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench-agent',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'EdDSA',
      id_token_signed_response_alg: 'EdDSA',
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'config.read',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' }] },
  scopes: ['config.read'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['EdDSA'],
    dPoPSigningAlgValues: ['EdDSA', 'ES256'],
    idTokenSigningAlgValues: ['EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'config.read', audience: RESOURCE, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
