import { ciba } from './ciba.js';
import { clientCredentials } from './client-credentials.js';
import { tokenExchange } from './token-exchange.js';
import type { Grant } from './types.js';

/** Every grant the token endpoint serves; the metadata's `grant_types_supported` is read from here. */
export const GRANTS: readonly Grant[] = [clientCredentials, tokenExchange, ciba];
export const grantFor = (grantType: string) => GRANTS.find((g) => g.grantType === grantType);
