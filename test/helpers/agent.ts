export * from '../../src/client/proofs.js';
