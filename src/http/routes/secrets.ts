import { Hono } from 'hono';
import { listSecrets, storeSecret } from '../../core/vault.js';
import { operator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith, secretSchema } from '../schemas.js';

/** The vault, write-only: a value goes in sealed and never comes back out over the API. */
export const secretRoutes = new Hono<BrokerEnv>()
  .post('/v1/secrets', operator, async (c) => {
    const { name, value } = parseWith(secretSchema, await readJson(c), 'invalid_request', '');
    return c.json(await storeSecret(c.get('deps').core, name, value, 'operator'), 201, { 'Cache-Control': 'no-store' });
  })
  .get('/v1/secrets', operator, async (c) => {
    return c.json({ secrets: await listSecrets(c.get('deps').core) });
  });
