// The credentials lying in a workspace's files, found with the guard's scanner (by format and by
// position). A finding carries a kind, a file and line and a fingerprint; the value itself is
// located only for `--import` (which must move it) and never leaves this process otherwise.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dedupe, fingerprint, parseDotenv, scanAssignments, scanContent, scanFormats, scanUrls, type Found } from '../guard/secrets.js';

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

/** Source code: `name: Type` and `x = y` lines are declarations and expressions, not settings. */
const CODE = /\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|kts|scala|rb|php|cs|swift|c|cc|cpp|h|hpp|m|dart|lua|ex|exs|erl|hs|ml|clj|vue|svelte)$/i;

/**
 * The credentials of one line. In source code only what a scanner can stand behind: known
 * formats, URL user info, quoted literals assigned to credential names (`const TOKEN = "…"`);
 * elsewhere (.env, JSON, YAML, shell, text) also `NAME=value` by position, as the guard reads a
 * file. (Every line of a TypeScript file read as dotenv finds `credentials: Credentials`.)
 */
export function scanLine(line: string, file: string, position = 'file'): Found[] {
  const own = { tokens: new Set<string>() };
  const found = CODE.test(file) ? dedupe([...scanFormats(line, position, own, file), ...scanUrls(line, own, file), ...scanAssignments(line, position, own, file)]) : scanContent(line, position, own, file);
  // Found by position only (`<position>:<name>`): the guard stops on any literal there, but a
  // report people act on drops what is plainly not a secret.
  const byPosition = found.filter((f) => f.kind.startsWith(`${position}:`));
  if (!byPosition.length) return found;
  const values = locate(line, byPosition);
  return found.filter((f) => !f.kind.startsWith(`${position}:`) || !plainlyNotSecret(values.get(f.fingerprint)));
}

/** Sentences, words, versions, URNs, URLs without user info, paths, identifier words (`private_key_jwt`). */
function plainlyNotSecret(v: string | undefined): boolean {
  if (v === undefined) return false;
  return (
    /\s/.test(v.trim()) || // a sentence, a command line: no credential holds a blank
    /^[a-z]{1,15}$/.test(v) || // a word (`capability`)
    /^[~^<>=v]*\d+(\.\d+)+([-+][\w.-]*)?$/.test(v) ||
    /^urn:/i.test(v) ||
    /^[a-z][a-z0-9+.-]*:\/\/[^@\s]*$/i.test(v) ||
    /^\.{0,2}\/[\w./-]*$/.test(v) ||
    /^[a-z]+(?:[_-][a-z]+)+$/.test(v) ||
    /^[A-Z][a-z]+(?:[A-Z][a-z]+)*[;,]?$/.test(v)
  );
}

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
  for (const m of line.matchAll(/(["'`])([^"'`\n]{1,4096})\1/g)) candidates.add(m[2]!);
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
      const found = scanLine(lines[i]!, rel).filter((f) => !seen.has(f.fingerprint));
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
