import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_EXAMPLE_KEY, claudeBash, codexBash, guardStack, RAILWAY_TOKEN } from './helpers.js';

// Stop only on proof, block on doubt (CONTRACT.md, "The tool-call path"): what stopped innocent
// work in the measured corpus, and what must still stop.
const JWT_IO = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const write = (file_path: string, content: string, cwd: string) => ({ session_id: 's', cwd, hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path, content } });

describe('credentials are values, never names, references or samples', () => {
  it('code and config that name a credential are allowed', async () => {
    const s = await guardStack();
    const files: [string, string][] = [
      ['src/billing.ts', 'export const client = new Billing({ apiToken: env.BILLING_API_TOKEN, timeout: 5000 });\n'],
      ['src/openai.ts', 'const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });\n'],
      ['src/auth.ts', 'return { token: token.value, refreshToken: session.refreshToken };\n'],
      ['.github/workflows/publish.yml', 'env:\n  NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n'],
      ['k8s/deploy.yaml', 'env:\n  - name: API_TOKEN\n    valueFrom:\n      secretKeyRef:\n        name: billing-secrets\n        key: API_TOKEN\n'],
      ['docs/guard.md', 'Run `STINT_TOKEN=$(stint token volume.delete)` then `curl -H "Authorization: DPoP $STINT_TOKEN" …`\n'],
      ['docs/aws.md', `aws configure set aws_access_key_id ${AWS_EXAMPLE_KEY}\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n`],
      ['test/jwt.test.ts', `const sample = '${JWT_IO}';\n`],
      ['config/settings.py', 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDATABASE_PASSWORD = os.getenv("DB_PASSWORD")\n'],
    ];
    for (const [f, content] of files) {
      const r = await s.guard('claude-code', write(join(s.cwd, f), content, s.cwd));
      expect(r.answer.kind, `${f}: ${r.rendered.stderr}`).toBe('allow');
    }
    expect((await s.task()).status).toBe('active');
  });

  it('a literal token in a written file is a stop, however it is written (Write, MultiEdit edits[], Codex apply_patch)', async () => {
    for (const ev of [
      (cwd: string) => write(join(cwd, 'deploy.ts'), `const RAILWAY_TOKEN = '${RAILWAY_TOKEN}';\n`, cwd),
      (cwd: string) => ({ session_id: 's', cwd, hook_event_name: 'PreToolUse', tool_name: 'MultiEdit', tool_input: { file_path: join(cwd, 'src/index.ts'), edits: [{ old_string: 'a', new_string: 'b' }, { old_string: '42', new_string: `42;\nconst headers = { Authorization: 'Bearer ${RAILWAY_TOKEN}' }` }] } }),
      (cwd: string) => codexBash(`apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: ops/deploy.sh\n+export RAILWAY_TOKEN=${RAILWAY_TOKEN}\n+railway up\n*** End Patch\nEOF`, cwd),
    ]) {
      const s = await guardStack();
      const r = await s.guard(ev === undefined ? 'claude-code' : (ev(s.cwd) as any).model ? 'codex' : 'claude-code', ev(s.cwd));
      expect(r.answer.kind, r.rendered.stderr).toBe('stop');
      expect(r.rendered.stdout + r.rendered.stderr).not.toContain(RAILWAY_TOKEN);
    }
  });
});

describe('reads are judged by the lines they would show', () => {
  it('a search that prints no credential line is allowed, one that does is blocked (not stopped)', async () => {
    const s = await guardStack();
    writeFileSync(join(s.cwd, '.env'), `# TODO rotate\nDATABASE_URL=postgres://app@localhost/app\nRAILWAY_TOKEN=${RAILWAY_TOKEN}\n`);
    const grep = (input: Record<string, unknown>) => ({ session_id: 's', cwd: s.cwd, hook_event_name: 'PreToolUse', tool_name: 'Grep', tool_input: input });
    for (const ev of [grep({ pattern: 'TODO', path: s.cwd }), grep({ pattern: 'TODO', path: s.cwd, output_mode: 'content' }), grep({ pattern: 'RAILWAY', path: s.cwd, output_mode: 'files_with_matches' })]) {
      const r = await s.guard('claude-code', ev);
      expect(r.answer.kind, JSON.stringify(ev.tool_input)).toBe('allow');
    }
    for (const cmd of ['rg --files', 'rg -n TODO', 'grep -rn TODO .', 'grep -rl RAILWAY_TOKEN .', 'grep -c TOKEN .env']) {
      const r = await s.guard('claude-code', claudeBash(cmd, s.cwd));
      expect(r.answer.kind, `${cmd}: ${r.rendered.stderr}`).toBe('allow');
    }
    for (const cmd of ['grep -rn RAILWAY .', 'rg TOKEN', 'cat .env']) {
      const r = await s.guard('claude-code', claudeBash(cmd, s.cwd));
      expect(r.answer.kind, cmd).toBe('block');
    }
    const shown = await s.guard('claude-code', grep({ pattern: 'token', '-i': true, path: s.cwd, output_mode: 'content' }));
    expect(shown.answer.kind).toBe('block');
    expect((await s.task()).status).toBe('active');
  });
});

describe('local targets and SQL the parsers used to miss', () => {
  it('a local SQLite DROP TABLE, psql -h localhost, and EXPLAIN ANALYZE on staging are allowed', async () => {
    const s = await guardStack();
    for (const cmd of [
      `sqlite3 dev.db "DROP TABLE IF EXISTS sessions"`,
      `psql -h localhost -U postgres -c "TRUNCATE test_events"`,
      `psql -h 127.0.0.1 app_test -c "DROP TABLE tmp_import"`,
      `psql -h db.staging.example -c "EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 42"`,
      `psql -h db.staging.example -c "EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM orders"`,
    ]) {
      const r = await s.guard('claude-code', claudeBash(cmd, s.cwd));
      expect(r.answer.kind, `${cmd}: ${r.rendered.stderr}`).toBe('allow');
    }
  });

  it('EXPLAIN ANALYZE runs its statement: EXPLAIN ANALYZE DELETE without WHERE on production is judged as the DELETE', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash(`psql -h db.production.example -c "EXPLAIN ANALYZE DELETE FROM orders"`, s.cwd));
    expect(r.answer.kind).toBe('stop');
  });

  it('what cannot be resolved is blocked as uncertain, never stopped', async () => {
    const s = await guardStack();
    for (const cmd of ['psql "$DATABASE_URL" -c "DROP TABLE orders"', 'export RAILWAY_TOKEN=$(vault read -field=token secret/railway) && railway up']) {
      const r = await s.guard('claude-code', claudeBash(cmd, s.cwd));
      expect(r.answer.kind, cmd).toBe('block');
      expect(r.rendered.stderr, cmd).toMatch(/uncertain/);
    }
    expect((await s.task()).status).toBe('active');
  });

  it('a classified destructive action for another environment is a stop even when its credential header is unknown', async () => {
    const s = await guardStack();
    const r = await s.guard('claude-code', claudeBash('curl -X DELETE https://api.production.example/volumes/vol_1 -H "Authorization: Bearer $(gh auth token)"', s.cwd));
    expect(r.answer.kind).toBe('stop');
    expect(r.out.stopReason).toMatch(/environment_mismatch/);
  });
});
