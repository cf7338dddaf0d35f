// `stint/verify`: offline verification of stint capability tokens for resource services.
export { StintVerifier, type VerifierOptions, type VerifiedRequest } from './verifier.js';
export { stintAuth, type StintVariables } from './hono.js';
export { RevocationView } from './revocation-view.js';
