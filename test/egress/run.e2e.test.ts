import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKeyFile, egressBroker, fakeProviders, FOUND, REAL, stintRun, workspace } from './helpers.js';

let broker: Awaited<ReturnType<typeof egressBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
let keys: string;

beforeAll(async () => {
  broker = await egressBroker();
  fake = await fakeProviders();
  keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
});
afterAll(async () => {
  await fake?.close();
  await broker?.close();
});

async function run(script: string, o: { env?: string[] } = {}) {
  const agent = await agentKeyFile(broker, keys);
  const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
  const ws = workspace();
  const args = ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'rotate the staging DB password', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, ...(o.env ?? ['--env', 'RAILWAY_TOKEN=railway-staging']).flatMap((e) => (e.startsWith('--') ? [e] : [e])), '--', 'sh', '-c', script];
  const before = fake.seen.length;
  const r = await stintRun(args, { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile }, ws);
  return { ...r, seen: fake.seen.slice(before), agent, ws };
}

const GQL = 'https://backboard.railway.app/graphql/v2';

describe('stint run', () => {
  it('a benign query with the placeholder reaches the provider with the real value injected', async () => {
    const r = await run(`curl -sS --fail-with-body -X POST ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}'`);
    expect(r.stderr).toMatch(/stint run: task /);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]!.headers.authorization).toBe(`Bearer ${REAL}`);
  });

  it('the incident (curl with the found token, volumeDelete) never reaches the provider, and the task is stopped', async () => {
    const r = await run(`curl -sS -X POST ${GQL} -H "Authorization: Bearer ${FOUND}" -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_1\\") }"}'; sleep 30`);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/stopped \(substitution\)/);
    expect(r.seen).toHaveLength(0);
  });
});
