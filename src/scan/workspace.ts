// The credentials lying in a workspace's files, found with the guard's scanner (by format and by
// position). A finding carries a kind, a file and line and a fingerprint; the value itself is
// located only for `--import` (which must move it) and never leaves this process otherwise.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fingerprint, parseDotenv, scanContent, type Found } from '../guard/secrets.js';

export const SKIP = new Set(['.git', 'node_modules', 'dist', 'build', '.venv', 'venv', '__pycache__', '.next', 'target']);
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

export interface ScanFinding {
  file: string;
  line: number;
  kind: string;
  fingerprint: string;
  /** The custody entry it should become: a name and the host it is sent to (undefined: unknown). */
  custody: { name: string; host?: string };
  suggestion: string;
}

/** A finding with its value, for `--import` only. */
export interface Located extends ScanFinding {
  value?: string;
  /** The variable or key it was assigned to on its line (`RAILWAY_TOKEN`), if any. */
  variable?: string;
}

export function* files(dir: string, count = { n: 0 }): Generator<string> {
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

/** The custody entry a credential should become, from its kind, its line's name and its file. */
export function custodyFor(kind: string, line: string, file: string, environment: string): ScanFinding['custody'] {
  const hint = `${kind} ${line.replace(/=.*$/, '')} ${file}`;
  const h = HOSTS.find(([re]) => re.test(hint));
  return { name: `${h?.[2] ?? 'provider'}-${environment === '<environment>' ? 'env' : environment}`, host: h?.[1] };
}

export const suggestionFor = (c: ScanFinding['custody'], environment: string, file: string) =>
  `stint vault put ${c.name} --environment ${environment} --host ${c.host ?? '<host>'}${c.host ? ' --header Authorization --scheme Bearer' : ''} < <the value>; then remove it from ${file}`;

/**
 * The value behind each finding of a line: candidates are the line's runs between separators
 * (and a dotenv value whole), matched by fingerprint, so the scanner itself needs no change and
 * nothing but a fingerprint is compared.
 */
export function locate(line: string, found: Found[]): Map<string, string> {
  const wanted = new Set(found.map((f) => f.fingerprint));
  const out = new Map<string, string>();
  const candidates = new Set<string>();
  for (const sep of [/[\s"'`,;{}()<>[\]]+/, /[\s"'`,;{}()<>[\]=:@/]+/, /[\s"'`,;{}()<>[\]=]+/]) for (const t of line.split(sep)) if (t.length >= 8) candidates.add(t);
  for (const v of parseDotenv(line).values()) candidates.add(v);
  for (const c of [...candidates]) {
    const scheme = /^(bearer|basic|token|dpop|bot)\s+/i.exec(c);
    if (scheme) candidates.add(c.slice(scheme[0].length));
  }
  for (const c of candidates) {
    const fp = fingerprint(c);
    if (wanted.has(fp) && !out.has(fp)) out.set(fp, c);
  }
  return out;
}

const variableOf = (line: string) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]/.exec(line)?.[1] ?? /["']?([A-Za-z_][\w-]*)["']?\s*[:=]/.exec(line)?.[1];

/** Every credential in the workspace's files, with its value located (for `--import`). */
export function scanLocated(root: string, environment = '<environment>'): Located[] {
  const out: Located[] = [];
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
      const found = scanContent(lines[i]!, 'file', { tokens: new Set() }, rel).filter((f) => !seen.has(f.fingerprint));
      if (!found.length) continue;
      const values = locate(lines[i]!, found);
      for (const f of found) {
        seen.add(f.fingerprint);
        const custody = custodyFor(f.kind, lines[i]!, rel, environment);
        out.push({ file: rel, line: i + 1, kind: f.kind, fingerprint: f.fingerprint, custody, suggestion: suggestionFor(custody, environment, rel), value: values.get(f.fingerprint), variable: variableOf(lines[i]!) });
      }
    }
  }
  return out;
}

/** What `stint scan` reports of the files: never a value. */
export function scanWorkspace(root: string, environment = '<environment>'): ScanFinding[] {
  return scanLocated(root, environment).map(({ value: _v, variable: _n, ...f }) => f);
}
