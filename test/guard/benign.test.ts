import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeBash, claudeRead, codexBash, cursorShell, geminiShell, guardStack } from './helpers.js';

/** Commands from real development work: none may be blocked, none may stop the task. */
const COMMANDS = [
  'git status',
  'git diff --stat HEAD~1',
  'git log --oneline -10',
  'git add -A && git commit -m "fix: refresh the token before it expires"',
  'git checkout -b fix/staging-credentials',
  'git stash && git pull --rebase && git stash pop',
  'git push origin fix/staging-credentials',
  'npm ci',
  'npm test',
  'npm run build',
  'npx tsc --noEmit',
  'npx vitest run test/config.test.ts',
  'npm install --save-dev @types/node',
  'pnpm -r lint',
  'yarn jest --watch=false',
  'node scripts/migrate.js --dry-run',
  'python3 -m pytest -q tests/',
  'cargo build --release',
  'go test ./...',
  'make -j2 all',
  'ls -la',
  'ls src | head -20',
  'cat README.md',
  'cat src/index.ts',
  'head -50 package.json',
  'sed -n 1,40p src/index.ts',
  'grep -rn "TODO" src | wc -l',
  'rg --files -g "*.ts" | head',
  'find . -name "*.ts" -not -path "./node_modules/*" | xargs wc -l',
  'wc -l src/*.ts',
  'tree -L 2 src',
  'echo $HOME && pwd',
  'export NODE_ENV=test && npm test',
  'NODE_OPTIONS=--max-old-space-size=4096 npm run build',
  'mkdir -p src/lib && touch src/lib/retry.ts',
  "cat > src/lib/retry.ts <<'EOF'\nexport async function retry<T>(fn: () => Promise<T>, n = 3): Promise<T> {\n  for (let i = 0; ; i++) {\n    try { return await fn(); } catch (e) { if (i >= n) throw e; }\n  }\n}\nEOF",
  'mv src/old.ts src/legacy.ts 2>/dev/null || true',
  'rm -rf dist coverage',
  'docker compose up -d db',
  'docker ps --format "{{.Names}}"',
  'curl -s https://api.staging.example/health',
  'curl -sf https://api.staging.example/config -H "Authorization: DPoP $STINT_TOKEN" -H "DPoP: $STINT_PROOF" | jq .',
  'curl -X PUT https://api.staging.example/config/db_password -H "Authorization: DPoP $STINT_TOKEN" -H "Content-Type: application/json" -d \'{"value":"rotated"}\'',
  'curl -X DELETE https://api.staging.example/config/cache -H "Authorization: DPoP $STINT_TOKEN"',
  'curl -s -X POST https://api.staging.example/graphql -H "Authorization: DPoP $STINT_TOKEN" -d \'{"query":"query { config { name } }"}\'',
  'psql -h db.staging.example -U app -c "SELECT count(*) FROM users"',
  'psql -h db.staging.example -c "DELETE FROM sessions WHERE expires_at < now()"',
  'sqlite3 data/dev.db "SELECT * FROM migrations ORDER BY id DESC LIMIT 5"',
  'kubectl get pods -n staging',
  'kubectl logs deploy/checkout -n staging --tail=100',
  'terraform plan -out=tfplan',
  'for f in src/*.ts; do echo "$f"; done',
  'if [ -f .nvmrc ]; then nvm use; fi',
  'date -u +%Y-%m-%dT%H:%M:%SZ',
  'jq ".scripts" package.json',
  'diff <(ls src) <(ls test) || true',
  'echo "unicode: héllo wörld — ✓"',
  'bash -c "npm run lint -- --fix"',
  'sh -c \'cd src && ls\'',
  'npx prettier --check "src/**/*.ts"',
  'curl -s https://api.staging.example/config -H "Authorization: DPoP $(npx stint token config.read)" -H "DPoP: $STINT_PROOF"',
];

describe('benign development work: zero blocks, zero stops', () => {
  it(`${COMMANDS.length} shell commands across the four harnesses`, async () => {
    expect(COMMANDS.length).toBeGreaterThanOrEqual(50);
    const s = await guardStack();
    const env = { HOME: '/home/dev', PATH: '/usr/bin', STINT_TOKEN: s.state.task_token, STINT_PROOF: 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVkRFNBIn0.eyJodG0iOiJHRVQifQ.c2ln' };
    const events = [claudeBash, codexBash, cursorShell, geminiShell] as const;
    const harnesses = ['claude-code', 'codex', 'cursor', 'gemini'] as const;
    const blocked: string[] = [];
    for (const [i, cmd] of COMMANDS.entries()) {
      const h = i % 4;
      const r = await s.guard(harnesses[h]!, events[h]!(cmd, s.cwd), { env });
      if (r.answer.kind !== 'allow' || r.rendered.exitCode !== 0) blocked.push(`${cmd} → ${r.rendered.stderr.trim()}`);
    }
    expect(blocked).toEqual([]);
    const t = await s.task();
    expect(t.status).toBe('active');
    expect(t.events.filter((e: any) => e.kind === 'denial' || e.kind === 'stop')).toEqual([]);
    // the trajectory counts each call (routine ones aggregated per interval), never a token
    expect(t.events.filter((e: any) => e.kind === 'tool').reduce((n: number, e: any) => n + (e.detail.count ?? 1), 0)).toBe(COMMANDS.length);
    expect(JSON.stringify(t)).not.toContain(s.state.task_token);
  });

  it('reads, edits and writes of ordinary files', async () => {
    const s = await guardStack();
    const read = await s.guard('claude-code', claudeRead(join(s.cwd, 'src/index.ts'), s.cwd));
    const edit = await s.guard('claude-code', { ...claudeRead('', s.cwd), tool_name: 'Edit', tool_input: { file_path: join(s.cwd, 'src/index.ts'), old_string: '42', new_string: '43' } });
    const write = await s.guard('gemini', { session_id: 'g', cwd: s.cwd, hook_event_name: 'BeforeTool', tool_name: 'write_file', tool_input: { file_path: join(s.cwd, 'src/new.ts'), content: 'export const x = 1;\n' } });
    const grep = await s.guard('claude-code', { ...claudeRead('', s.cwd), tool_name: 'Grep', tool_input: { pattern: 'token', path: 'src' } });
    for (const r of [read, edit, write, grep]) expect(r.answer.kind, r.rendered.stderr).toBe('allow');
    expect(read.rendered).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });
});
