// The Node listener reads request bodies from the socket itself (src/runtime/node/serve.ts):
// the same limits and answers as the portable path, over real HTTP.
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { liveBroker, LIVE_ADMIN } from './helpers/live.js';

const live = await liveBroker();
afterAll(() => live.close());

/** A raw POST, so that the body can be sent chunked with no declared length. */
function post(path: string, headers: Record<string, string>, chunks: string[]): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${live.issuer}${path}`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${LIVE_ADMIN}` };

describe('request bodies on Node', () => {
  it('reads a form body (declared length or chunked) and answers with the standard headers', async () => {
    const declared = await post('/introspect', form, ['token=not-a-token']);
    expect(declared.status).toBe(200);
    expect(JSON.parse(declared.body)).toEqual({ active: false });
    expect(declared.headers['x-content-type-options']).toBe('nosniff');
    expect(declared.headers['cache-control']).toBe('no-store');
    const chunked = await post('/introspect', { ...form, 'Transfer-Encoding': 'chunked' }, ['tok', 'en=not-a-', 'token']);
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.body)).toEqual({ active: false });
  });

  it('refuses a chunked body past the limit with 413, and a declared one from its header', async () => {
    const big = await post('/token', { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' }, Array.from({ length: 10 }, () => 'x'.repeat(8192)));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error).toBe('payload_too_large');
    expect(big.headers['x-content-type-options']).toBe('nosniff');
    const declared = await post('/token', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(70_000) }, ['x'.repeat(70_000)]);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toBe('payload_too_large');
    // The connection's server is still well after both.
    expect((await post('/introspect', form, ['token=x'])).status).toBe(200);
  });

  it('reads JSON bodies of the management API', async () => {
    const res = await post('/v1/revocations', { 'Content-Type': 'application/json', Authorization: `Bearer ${LIVE_ADMIN}` }, ['{"environment":', '"nowhere"}']);
    expect(res.status).toBeLessThan(500);
    const bad = await post('/v1/revocations', { 'Content-Type': 'application/json', Authorization: `Bearer ${LIVE_ADMIN}` }, ['{"environment":']);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toBe('invalid_request');
  });
});
