import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { credentialUse } from '../../src/core/rules/credential-use.js';
import { uncertainty } from '../../src/core/rules/uncertainty.js';
import { runGuard } from '../../src/guard/run.js';
import { loadShellParser, parseShell } from '../../src/guard/shell.js';
import type { TaskState } from '../../src/guard/state.js';

/** A broker stand-in that applies the real rules to what the guard sends. */
const sent: any[] = [];
const broker = (async (_url: string, init?: RequestInit) => {
  const body = JSON.parse(String(init?.body));
  sent.push(body);
  const p = body.action.properties;
  const v = [credentialUse.evaluate({ credentials: p.credentials }), uncertainty.evaluate({ uncertain: p.uncertain })].find((x) => x.kind !== 'allow');
  return new Response(JSON.stringify(v ? { decision: false, context: { reason: v.why, stopped: v.kind === 'stop' } } : { decision: true, context: { reason: 'allowed' } }), { headers: { 'Content-Type': 'application/json' } });
}) as unknown as typeof fetch;

const state: TaskState = {
  version: 1,
  url: 'http://broker.test',
  issuer: 'http://broker.test',
  client_id: 'agt_x',
  task_id: 'task_xxxxxxxxxxxx',
  template: 'fix-credentials',
  environment: 'staging',
  purpose: 'p',
  task_token: 'eyJhbGciOiJFZERTQSJ9.eyJ0YXNrX2lkIjoidGFza194eHh4eHh4eHh4eHgifQ.c2ln',
  expires_at: 4_000_000_000,
  dpop: {
    alg: 'EdDSA',
    private_jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' },
    public_jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
    jkt: 'x',
  },
};

const pieces = ['curl', '-H', '"Authorization: Bearer x"', "'", '"', '$(', ')', '`', '|', '||', '&&', ';', '\\', '$X', '${Y:-z}', 'sh -c', 'bash -c "', 'eval', '<<EOF\n', '\nEOF', '<', '>', '2>&1', '$\'\\x41\'', 'é', '😀', '\u202e', '\0', '\n', ' ', 'DROP TABLE t', 'volumeDelete', '{"query":"mutation{', '}', 'base64 -d', 'source .env', '@file', 'railway', 'volume', 'delete', '#'];
const adversarial = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(' '));
const command = fc.oneof(adversarial, fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }));

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);

describe('random and adversarial commands', () => {
  it('always answer, never crash, never allow what they cannot parse', async () => {
    await loadShellParser();
    await fc.assert(
      fc.asyncProperty(command, fc.constantFrom('claude-code', 'codex', 'cursor', 'gemini' as const), async (cmd, harness) => {
        sent.length = 0;
        const event =
          harness === 'cursor'
            ? { hook_event_name: 'beforeShellExecution', command: cmd, cwd: '/tmp', workspace_roots: ['/tmp'] }
            : { session_id: 's', cwd: '/tmp', hook_event_name: harness === 'gemini' ? 'BeforeTool' : 'PreToolUse', tool_name: harness === 'gemini' ? 'run_shell_command' : 'Bash', tool_input: { command: cmd } };
        const r = await within(runGuard({ harness, input: JSON.stringify(event), state, fetch: broker, env: {} }), 10_000);
        expect(r).not.toBe('hung');
        if (r === 'hung') return;
        expect([0, 2]).toContain(r.rendered.exitCode);
        const parsed = parseShell(cmd, { vars: new Map(), readFile: () => undefined });
        if (parsed.uncertain) expect(r.answer.kind).not.toBe('allow');
        // nothing the guard sent holds the command's credential-looking text verbatim
        for (const b of sent) expect(JSON.stringify(b.action.properties.credentials)).not.toContain('Bearer x');
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('huge inputs are answered (blocked), not choked on', async () => {
    const big = await runGuard({ harness: 'claude-code', input: JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'echo '.repeat(1_000_000) } }), state, fetch: broker, env: {} });
    expect(big.rendered.exitCode).toBe(2);
    let nested = 'ls';
    for (let i = 0; i < 7; i++) nested = `bash -c '${nested.replace(/'/g, `'\\''`)}'`;
    const deep = await runGuard({ harness: 'claude-code', input: JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: nested } }), state, fetch: broker, env: {} });
    expect(deep.answer.kind).not.toBe('allow');
  });
});
