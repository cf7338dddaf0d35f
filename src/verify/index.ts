// `@stint/verify` (and `stint/verify`): offline verification of stint capability tokens for resource services.
export { StintVerifier, type VerifierOptions, type VerifiedRequest } from './verifier.js';
export { stintAuth, type StintVariables } from './hono.js';
export { verify, type VerifyResult } from './request.js';
export { RevocationView } from './revocation-view.js';
export { StintError, isStintError } from '../core/errors.js';
export type { StintClaims } from '../core/tokens.js';
