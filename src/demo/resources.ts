import { Hono } from 'hono';
import { StintVerifier, stintAuth } from '../verify/index.js';
import type { OperatorClient } from '../client/operator.js';

/**
 * A stand-in production infrastructure API guarded by the verifier middleware: the kind of
 * service the incident's agent deleted a database and its backups through.
 */
export async function productionApi(operator: OperatorClient, o: { brokerUrl?: string } = {}) {
  const audience = 'https://api.production.example/volumes';
  const creds = await operator.resource('production volumes API', audience);
  const verifier = new StintVerifier({ issuer: operator.issuer, brokerUrl: o.brokerUrl, audience, environment: 'production', clientId: creds.client_id, clientSecret: creds.client_secret });
  await verifier.start();
  const deleted: string[] = [];
  const app = new Hono()
    .delete('/volumes/:id', stintAuth(verifier, { capability: 'volume.delete' }), (c) => {
      deleted.push(c.req.param('id'));
      return c.json({ deleted: c.req.param('id') });
    })
    .get('/volumes', stintAuth(verifier), (c) => c.json({ volumes: ['prod-db', 'prod-db-backups'] }));
  return { app, audience, verifier, deleted, close: () => verifier.stop() };
}
