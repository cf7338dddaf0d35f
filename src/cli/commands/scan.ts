// `stint scan [dir]`: the provider credentials lying in a workspace, found with the guard's
// scanner (by format and by position), and the custody entry each should become. Values are
// never printed: a kind, a file and line, a fingerprint. (Not yet: git history, --import.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { scanContent, type Found } from '../../guard/secrets.js';
import { output, table } from '../shared.js';

const SKIP = new Set(['.git', 'node_modules', 'dist', 'build', '.venv', 'venv', '__pycache__', '.next', 'target']);
const MAX_FILE = 1024 * 1024;
const MAX_FILES = 20_000;

/** Where a kind of credential is sent: the host a custody entry for it would name. */
const HOSTS: [RegExp, string, string][] = [
  [/railway/i, 'backboard.railway.app', 'railway'],
  [/^github/i, 'api.github.com', 'github'],
  [/^gitlab/i, 'gitlab.com', 'gitlab'],
  [/^stripe/i, 'api.stripe.com', 'stripe'],
  [/^slack/i, 'slack.com', 'slack'],
  [/^openai/i, 'api.openai.com', 'openai'],
  [/^anthropic/i, 'api.anthropic.com', 'anthropic'],
  [/^npm/i, 'registry.npmjs.org', 'npm'],
  [/^sendgrid/i, 'api.sendgrid.com', 'sendgrid'],
  [/^google/i, 'www.googleapis.com', 'google'],
];

function* files(dir: string, count = { n: 0 }): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (count.n >= MAX_FILES) return;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) yield* files(p, count);
    } else if (e.isFile()) {
      count.n++;
      yield p;
    }
  }
}

export interface ScanFinding {
  file: string;
  line: number;
  kind: string;
  fingerprint: string;
  suggestion: string;
}

export function scanWorkspace(root: string, environment = '<environment>'): ScanFinding[] {
  const out: ScanFinding[] = [];
  for (const file of files(root)) {
    let text: string;
    try {
      if (statSync(file).size > MAX_FILE) continue;
      const buf = readFileSync(file);
      if (buf.includes(0)) continue; // binary
      text = buf.toString('utf8');
    } catch {
      continue;
    }
    const rel = relative(root, file);
    const lines = text.split(/\r?\n/);
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      const found: Found[] = scanContent(lines[i]!, 'file', { tokens: new Set() }, rel);
      for (const f of found) {
        const key = `${f.fingerprint}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const hint = `${f.kind} ${lines[i]!.replace(/=.*$/, '')} ${rel}`;
        const h = HOSTS.find(([re]) => re.test(hint));
        const name = `${h?.[2] ?? 'provider'}-${environment === '<environment>' ? 'env' : environment}`;
        out.push({
          file: rel,
          line: i + 1,
          kind: f.kind,
          fingerprint: f.fingerprint,
          suggestion: `stint vault put ${name} --environment ${environment} --host ${h?.[1] ?? '<host>'}${h ? ' --header Authorization --scheme Bearer' : ''} < <the value>; then remove it from ${rel}`,
        });
      }
    }
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('scan [dir]')
    .description('find provider credentials in a workspace (never printing them) and say which custody entry each should become')
    .option('--environment <environment>', 'the environment the credentials act on, for the suggestions')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit status: 0 when nothing is found, 1 when credentials are found, 2 on failure.')
    .action((dir: string | undefined, o: { environment?: string; json?: boolean }) => {
      const root = resolve(dir ?? '.');
      const found = scanWorkspace(root, o.environment);
      output(o.json, { root, findings: found }, (r) =>
        r.findings.length === 0
          ? `no credentials found under ${r.root}`
          : `${table([['FILE:LINE', 'KIND', 'SHA256'], ...r.findings.map((f) => [`${f.file}:${f.line}`, f.kind, f.fingerprint])])}\n\n${[...new Set(r.findings.map((f) => f.suggestion))].join('\n')}`,
      );
      if (found.length) process.exitCode = 1;
    });
}
