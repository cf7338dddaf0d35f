// A resource service guarded by stint's verifier middleware, for the offline-verification
// benchmark: `node --import tsx resource-server.ts <port> <issuer> <brokerUrl> <clientId> <secret>`.
import { Hono } from 'hono';
import { listen } from '../../src/runtime/node/serve.js';
import { StintVerifier, stintAuth } from '../../src/verify/index.js';

const [port, issuer, brokerUrl, clientId, clientSecret] = process.argv.slice(2) as [string, string, string, string, string];
const audience = 'https://api.staging.example/config';
const verifier = new StintVerifier({ issuer, brokerUrl, audience, environment: 'staging', clientId, clientSecret });
await verifier.start();
const app = new Hono().get('/config', stintAuth(verifier), (c) => c.json({ ok: true }));
await listen(app, '127.0.0.1', Number(port));
console.log('ready');
