import { Hono } from 'hono';
import { z } from 'zod';
import { egressSession, listCustody, putCustody } from '../../core/custody.js';
import { operator, taskAgent } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith } from '../schemas.js';

const host = z.string().max(253).regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'a host name, or *.domain');
const custodyName = z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'lowercase letters, digits, ., - and _');
const custodySchema = z.strictObject({
  name: custodyName,
  environment: z.string().min(1).max(64),
  hosts: z.array(host).min(1).max(32),
  header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name').optional(),
  scheme: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a word such as Bearer').optional(),
  value: z.string().min(1).max(16_384).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
});
const sessionSchema = z.strictObject({ names: z.array(custodyName).max(64).default([]) });

/**
 * Custody: provider credentials the operator hands to stint for agents' egress. Write-only for
 * the operator (201 without the value; the list has no values). The one way a value leaves is
 * the egress session of a live task of the entry's environment (the `stint run` supervisor,
 * which holds the task's DPoP key outside the agent's sandbox).
 */
export const custodyRoutes = new Hono<BrokerEnv>()
  .post('/v1/custody', operator, async (c) => {
    const body = parseWith(custodySchema, await readJson(c), 'invalid_request', '');
    return c.json(await putCustody(c.get('deps').core, body, 'operator'), 201, { 'Cache-Control': 'no-store' });
  })
  .get('/v1/custody', operator, async (c) => c.json({ custody: await listCustody(c.get('deps').core) }, 200, { 'Cache-Control': 'no-store' }))
  .post('/v1/egress/session', taskAgent(), async (c) => {
    const { names } = parseWith(sessionSchema, await readJson(c), 'invalid_request', '');
    return c.json(await egressSession(c.get('deps').core, c.get('agent')!, names), 200, { 'Cache-Control': 'no-store' });
  });
