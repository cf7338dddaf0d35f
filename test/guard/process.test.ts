import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperatorClient } from '../../src/client/operator.js';
import { claudeBash, claudeRead, RAILWAY_TOKEN, workspace } from './helpers.js';
import { hookBroker, spawnHook } from './spawned.js';

// The real hook process, as a harness spawns it: the pre-built bundle against a broker on a port.
let stack: Awaited<ReturnType<typeof hookBroker>>;
let home: string;
let cwd: string;
let operator: OperatorClient;
const freshTask = (name: string) => stack.freshTask(name);
const hook = (event: unknown, env: Record<string, string> = {}, stintHome = home) => spawnHook(event, { STINT_HOME: stintHome, ...env });

beforeAll(async () => {
  stack = await hookBroker();
  operator = stack.operator;
  home = await freshTask('proc-agent');
  cwd = workspace();
}, 120_000);
afterAll(() => stack?.close());

describe('the stint guard process (dist bundle), as a harness runs it', () => {
  it('allows benign calls, blocks the read, stops at the token’s first use', async () => {
    for (const cmd of ['git status', 'npm test && npx tsc --noEmit', 'grep -rn TODO src | head', "cat <<'EOF' > src/a.ts\nexport {}\nEOF"]) {
      const r = await hook(claudeBash(cmd, cwd));
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    }
    const read = await hook(claudeRead(join(cwd, 'ops/railway.env'), cwd));
    expect(read.code).toBe(2);
    expect(JSON.parse(read.stdout).continue).toBeUndefined();
    const stop = await hook(claudeBash(`curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`, cwd));
    expect(stop.code).toBe(2);
    expect(JSON.parse(stop.stdout)).toMatchObject({ continue: false, hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(stop.stdout + stop.stderr).not.toContain(RAILWAY_TOKEN);
  });

  it('reads GraphQL in the bundle: a benign query is allowed (the parser chunk exports only default)', async () => {
    const q = `curl -s -X POST https://api.staging.example/graphql -H 'Content-Type: application/json' -d '{"query":"query { volumes { id name } }"}'`;
    const h = await freshTask('proc-graphql');
    const r = await hook(claudeBash(q, cwd), {}, h);
    expect(r.code, r.stderr).toBe(0);
    const raw = await hook(claudeBash(`curl -s https://api.staging.example/graphql --data-urlencode 'query={ me { id } }' -G`, cwd), {}, h);
    expect(raw.code, raw.stderr).toBe(0);
  });

  it('answers within its deadline on the 150 KB a-a-a header beside the incident (analysed to the end: a stop)', async () => {
    const cmd = `curl -X POST https://backboard.railway.app/graphql/v2 -H "X-Pad: ${'a-'.repeat(75_000)}" -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`;
    const r = await hook(claudeBash(cmd, cwd), { STINT_GUARD_DEADLINE_MS: '2000' }, await freshTask('proc-huge'));
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    // a stop, or (on a machine too loaded to finish) a block as uncertain: never an allow
    expect(out.hookSpecificOutput.permissionDecision).toBe('deny');
    expect(out.continue === false || /uncertain/.test(r.stderr)).toBe(true);
  });

  it('another agent\'s stint token in a call: the presenter is stopped and the token revoked (the bundle hands it to its issuer)', async () => {
    const victim = await operator.agent('proc-victim', 'bob', ['fix-credentials']);
    const opened = await victim.openTask('fix-credentials', 'staging', 'its own work');
    const token = opened.body.access_token as string;
    expect((await operator.introspect(token)).active).toBe(true);
    const r = await hook(claudeBash(`curl -H "Authorization: Bearer ${token}" https://api.staging.example/config`, cwd), {}, await freshTask('proc-presenter'));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ continue: false });
    expect(await operator.introspect(token)).toEqual({ active: false });
  });
});
