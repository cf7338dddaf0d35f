// oidc-provider beside stint on the same work (client_credentials, private_key_jwt, DPoP, a JWT
// access token for one resource): started by the minting benches through their own spawner.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newKey } from '../../src/client/proofs.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { presignTokenRequests } from './presign.js';

/** Starts oidc-server.ts on a free port; `sign(n)` pre-signs n single-use token requests for it. */
export async function startOidcProvider(spawnReady: (args: string[]) => Promise<ChildProcess>) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientKey = await newKey();
  const child = await spawnReady([fileURLToPath(new URL('./oidc-server.ts', import.meta.url)), String(port), JSON.stringify(clientKey.publicJwk)]);
  const sign = async (n: number) =>
    presignTokenRequests({
      n,
      issuer,
      aud: `${issuer}/token`,
      tokenUrl: `${issuer}/token`,
      path: '/token',
      clientId: 'bench-agent',
      key: clientKey,
      dpop: await newKey(),
      params: { grant_type: 'client_credentials', scope: 'config.read', resource: 'https://api.staging.example/config' },
    });
  return { issuer, child, sign };
}
