// From one normalised event to the facts the broker decides on: the credentials the call uses
// or would show (kind + fingerprint only), the calls it makes (HTTP, GraphQL, SQL, command
// lines) and whether anything could not be read. Files the call pulls in are read, bounded.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CallDescriptor, ToolCallFacts } from '../core/tool-call.js';
import type { GuardEvent } from './event.js';
import { dedupe, positional, scanContent, scanFormats, scanJson, scanUrls, wire, type Found, type Ownership } from './secrets.js';
import { loadShellParser, parseShell, stripWrappers, type Env, type SimpleCommand, type Word } from './shell.js';
import { OutOfTime, within } from './bounded.js';
import { NeedParser } from './need.js';
import { loadStatementParser } from './statements.js';
import { httpCall, isCredName, safeUrl, sqlCall } from './calls.js';

export interface AnalyzeContext {
  own: Ownership;
  /** The environment the agent's commands see (the hook's own, which the harness passes on). */
  env: Record<string, string | undefined>;
  /** Files larger than this are read only this far. */
  maxFileBytes?: number;
  /** When analysis must be done (performance.now() ms); default 2 s from the call. */
  deadline?: number;
}

const MAX_FILES = 32;

export function fileReader(cwd: string, max = 256 * 1024) {
  let count = 0;
  const cache = new Map<string, string | undefined>();
  return (path: string): string | undefined => {
    const p = isAbsolute(path) ? path : resolve(cwd || '.', path);
    if (cache.has(p)) return cache.get(p);
    let text: string | undefined;
    if (count++ < MAX_FILES) {
      try {
        const st = statSync(p);
        // regular files only: never block on a FIFO or a device
        if (st.isFile()) text = st.size <= max ? readFileSync(p, 'utf8') : readFileSync(p).subarray(0, max).toString('utf8');
      } catch {
        text = undefined;
      }
    }
    cache.set(p, text);
    return text;
  };
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Commands that show a file's content to the agent. */
const DISPLAY = new Set(['cat', 'head', 'tail', 'less', 'more', 'bat', 'batcat', 'grep', 'egrep', 'fgrep', 'rg', 'ag', 'strings', 'xxd', 'od', 'hexdump', 'base64', 'jq', 'yq', 'sed', 'awk', 'nl', 'tac', 'sort', 'uniq', 'cut', 'diff', 'cmp', 'column', 'fold', 'rev', 'tr', 'view', 'vim', 'vi', 'nano', 'python3', 'python', 'node', 'openssl', 'gpg', 'cp', 'scp', 'rsync', 'tee', 'dd']);
const HTTP = new Set(['curl', 'wget', 'http', 'https', 'xh', 'xhs', 'httpie', 'curlie']);
const SQL = new Set(['psql', 'mysql', 'mariadb', 'sqlite3', 'sqlite', 'cockroach', 'clickhouse-client', 'duckdb', 'sqlcmd', 'pgcli', 'mycli', 'litecli', 'turso', 'wrangler']);
const SEARCH = new Set(['grep', 'egrep', 'fgrep', 'rg', 'ag']);

/** A grep-like command's pattern, files and what it prints. */
function searchOf(base: string, argv: Word[]) {
  let pattern: string | undefined;
  const files: Word[] = [];
  let namesOnly = base === 'rg' && argv.some((w) => w.text === '--files');
  let context = 0;
  let ignoreCase = false;
  let fixed = base === 'fgrep';
  let extended = base === 'egrep' || base === 'rg' || base === 'ag';
  let wholeFile = false;
  const VALUE = new Set(['-e', '--regexp', '-f', '--file', '-A', '-B', '-C', '-m', '--max-count', '-g', '--glob', '-t', '--type', '-T', '--type-not', '--include', '--exclude', '--exclude-dir', '-d', '-D', '--color', '--colour']);
  for (let i = 1; i < argv.length; i++) {
    const t = argv[i]!.text;
    if (t === '--') {
      for (const w of argv.slice(i + 1)) if (pattern === undefined) pattern = w.text;
      else files.push(w);
      break;
    }
    if (t.startsWith('-') && t.length > 1) {
      const [opt, inline] = t.startsWith('--') ? [t.split('=')[0]!, t.includes('=') ? t.slice(t.indexOf('=') + 1) : undefined] : [t.slice(0, 2), t.length > 2 ? t.slice(2) : undefined];
      const short = t.startsWith('--') ? '' : t.slice(1);
      if (/^(-l|-L|-c|-q|--files-with-matches|--files-without-match|--count|--quiet|--files|--count-matches)$/.test(opt) || (!t.startsWith('--') && /[lLcq]/.test(short) && !/[ABCemfgtTd]/.test(short))) namesOnly = true;
      if (opt === '-i' || opt === '--ignore-case' || (!t.startsWith('--') && short.includes('i') && !/[ABCemfgtTd]/.test(short))) ignoreCase = true;
      if (opt === '-F' || opt === '--fixed-strings') fixed = true;
      if (opt === '-E' || opt === '--extended-regexp' || opt === '-P') extended = true;
      if (opt === '-v' || opt === '--invert-match' || opt === '-f' || opt === '--file' || opt === '--passthru' || opt === '-z') wholeFile = true;
      if (VALUE.has(opt)) {
        const v = inline ?? argv[++i]?.text;
        if (opt === '-e' || opt === '--regexp') pattern = pattern === undefined ? v : `${pattern}|${v}`;
        if ((opt === '-A' || opt === '-B' || opt === '-C') && v) context = Math.max(context, Number(v) || 10);
      }
      continue;
    }
    if (pattern === undefined && !namesOnly) pattern = t;
    else if (pattern === undefined && base !== 'rg') pattern = t;
    else files.push(argv[i]!);
  }
  // rg --files: every argument is a path
  if (base === 'rg' && argv.some((w) => w.text === '--files') && pattern !== undefined) files.unshift({ text: pattern, literal: true, refs: [], files: [] });
  const match = wholeFile || pattern === undefined ? () => true : lineMatcher(pattern, { ignoreCase, fixed, basic: !extended });
  return { files: files.filter((w) => w.literal), namesOnly, context, match };
}

const INLINE = new Set(['node', 'python', 'python3', 'ruby', 'perl', 'php', 'deno', 'bun']);
const PRINT_ENV = new Set(['env', 'printenv', 'set', 'export', 'declare']);

export interface Analysis {
  facts: Omit<ToolCallFacts, 'stage' | 'tool' | 'harness'>;
}

/**
 * Analyses one event. Never throws for bad input: what cannot be read becomes `uncertain`, and
 * so does analysis that cannot finish by `ctx.deadline` (performance.now() ms): the synchronous
 * reading runs under a hard limit (bounded.ts); parsers it needs are loaded between attempts.
 */
export async function analyze(ev: GuardEvent, ctx: AnalyzeContext): Promise<ToolCallFacts> {
  const deadline = ctx.deadline ?? performance.now() + 2000;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return within(deadline - performance.now(), () => analyzeSync(ev, ctx));
    } catch (e) {
      if (e instanceof NeedParser) {
        const left = deadline - performance.now();
        const loaded = await Promise.race([
          (e.which === 'shell' ? loadShellParser() : loadStatementParser(e.which)).then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, left)).unref?.()),
        ]);
        if (!loaded) return outOfTime(ev, new OutOfTime(Math.floor(left)));
        continue;
      }
      if (e instanceof OutOfTime) return outOfTime(ev, e);
      throw e;
    }
  }
  return outOfTime(ev, new OutOfTime(0));
}

/** Facts for a call the guard could not finish reading in time: blocked as `uncertain`. */
function outOfTime(ev: GuardEvent, e: OutOfTime): ToolCallFacts {
  return {
    stage: ev.stage === 'other' ? 'session' : ev.stage,
    tool: ev.tool,
    harness: ev.harness,
    credentials: [],
    exposed: [],
    calls: [],
    uncertain: `${e.message} (the hook answers within its deadline)`,
    callHash: hash(JSON.stringify({ tool: ev.tool, command: ev.command?.slice(0, 4096), files: ev.filesRead })),
  };
}

export function analyzeSync(ev: GuardEvent, ctx: AnalyzeContext): ToolCallFacts {
  const readFile = fileReader(ev.cwd, ctx.maxFileBytes);
  const used: Found[] = [];
  const exposed: Found[] = [];
  const calls: CallDescriptor[] = [];
  let uncertain: string | undefined;
  let summary: string | undefined;
  const own = ctx.own;

  if (ev.command !== undefined) {
    const vars = new Map<string, string>();
    for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) vars.set(k, v);
    const env: Env = { vars, readFile, cwd: ev.cwd };
    const parsed = parseShell(ev.command, env);
    uncertain = parsed.uncertain;
    const r = shellFacts(parsed.commands, env, own, ctx.env);
    used.push(...r.used);
    exposed.push(...r.exposed);
    calls.push(...r.calls);
    uncertain ??= r.uncertain;
    summary = ev.command.replace(/\s+/g, ' ').slice(0, 160);
  }
  for (const f of ev.filesRead) {
    const text = ev.fileContents?.[f] ?? readFile(f);
    if (text !== undefined) exposed.push(...scanContent(text, 'file', own, f));
    summary ??= `read ${f}`;
  }
  // a content search (Grep, search_file_content) shows only the matching lines of the files it reads
  if (ev.kind === 'search' && /grep|search_file_content/i.test(ev.tool) && ev.args && typeof ev.args === 'object') {
    const a = ev.args as Record<string, unknown>;
    const where = typeof a.path === 'string' ? a.path : typeof a.dir_path === 'string' ? a.dir_path : '.';
    // Claude Code's Grep shows file names unless output_mode is "content"
    const mode = typeof a.output_mode === 'string' ? a.output_mode : /^grep$/i.test(ev.tool) && ev.harness !== 'cursor' ? 'files_with_matches' : 'content';
    if (mode === 'content' && typeof a.pattern === 'string') {
      const context = Math.max(Number(a['-A'] ?? 0) || 0, Number(a['-B'] ?? 0) || 0, Number(a['-C'] ?? a.context ?? 0) || 0);
      const match = lineMatcher(a.pattern, { ignoreCase: a['-i'] === true || a.case_sensitive === false });
      const env: Env = { vars: new Map(), readFile, cwd: ev.cwd };
      for (const f of [...listFiles(env, where), where]) {
        const text = readFile(f);
        if (text !== undefined) exposed.push(...scanContent(shownLines(text, match, context), 'file', own, f));
      }
    }
    summary ??= `search ${String(a.pattern ?? '').slice(0, 60)} in ${where}`;
  }
  for (const w of ev.filesWritten) {
    if (w.content) used.push(...scanContent(w.content, 'write', own, w.path));
    summary ??= `write ${w.path}`;
  }
  if (ev.kind === 'mcp') {
    // MCP tools are actions: `mcp__server__tool` (Claude Code, Gemini), `server:tool`
    const m = /^mcp(?:__|_|:)([^_:]+(?:_[^_:]+)*?)(?:__|:)(.+)$/.exec(ev.tool);
    const server = typeof (ev.args as Record<string, unknown> | undefined)?.server_name === 'string' ? String((ev.args as Record<string, unknown>).server_name) : m?.[1];
    calls.push({ type: 'mcp', server: (server ?? ev.tool).slice(0, 128), tool: (m?.[2] ?? ev.tool).slice(0, 128) });
  }
  if (ev.kind === 'mcp' && ev.args !== undefined) {
    used.push(...scanJson(ev.args, 'mcp', own));
    summary ??= `mcp ${ev.tool}`;
  } else if (ev.kind === 'other' && ev.args !== undefined && ev.command === undefined) {
    used.push(...scanJson(ev.args, 'argument', own));
  }
  if (ev.url) {
    used.push(...scanUrls(ev.url, own), ...scanFormats(ev.url, 'argument', own));
    const u = safeUrl(ev.url);
    if (u) calls.push({ type: 'http', method: 'GET', host: u.hostname, path: u.pathname });
  }

  const foreignUse = dedupe(used).filter((f) => !f.own);
  const foreignExposed = dedupe(exposed).filter((f) => !f.own && !foreignUse.some((u) => u.fingerprint === f.fingerprint));
  const hasSecret = used.length + exposed.length > 0;
  const callHash = hash(JSON.stringify({ tool: ev.tool, command: ev.command?.trim().replace(/\s+/g, ' '), files: ev.filesRead, writes: ev.filesWritten.map((w) => w.path), args: ev.command === undefined ? ev.args : undefined }));
  return {
    stage: ev.stage === 'other' ? 'session' : ev.stage,
    tool: ev.tool,
    harness: ev.harness,
    credentials: foreignUse.map(wire).slice(0, 50),
    exposed: foreignExposed.map(wire).slice(0, 50),
    calls: calls.slice(0, 50),
    ...(uncertain ? { uncertain: uncertain.slice(0, 500) } : {}),
    callHash,
    ...(ev.error ? { error: ev.error.slice(0, 2000) } : {}),
    // a summary is kept only when the call held no credential (the trajectory never holds one)
    ...(summary && !hasSecret ? { summary } : {}),
  };
}


/** A search pattern as a line test: the regular expression when JavaScript reads it, else the text. */
export function lineMatcher(pattern: string, o: { ignoreCase?: boolean; fixed?: boolean; basic?: boolean } = {}): (line: string) => boolean {
  const p = o.basic ? pattern.replace(/\\([|(){}+?])/g, '$1') : pattern;
  if (!o.fixed) {
    try {
      const re = new RegExp(p, o.ignoreCase ? 'i' : '');
      return (line) => re.test(line);
    } catch {
      /* not a JavaScript expression: the text itself */
    }
  }
  const needle = o.ignoreCase ? pattern.toLowerCase() : pattern;
  return (line) => (o.ignoreCase ? line.toLowerCase() : line).includes(needle);
}

/** The lines a search would print (with `context` lines around each), in order. */
export function shownLines(text: string, match: (line: string) => boolean, context = 0): string {
  const lines = text.split('\n');
  const keep = new Uint8Array(lines.length);
  lines.forEach((l, i) => {
    if (!match(l)) return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) keep[j] = 1;
  });
  return lines.filter((_, i) => keep[i]).join('\n');
}

/** Files under a directory a recursive search reads (bounded: 200 entries, no node_modules or .git). */
function listFiles(env: Env, dir: string): string[] {
  const out: string[] = [];
  const root = isAbsolute(dir) ? dir : resolve(env.cwd ?? '.', dir);
  const queue = [root];
  let seen = 0;
  while (queue.length && seen < 200 && out.length < 24) {
    const d = queue.shift()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > 200) break;
      if (e.name === 'node_modules' || e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) queue.push(p);
      else if (e.isFile()) out.push(p);
    }
  }
  return out;
}

function shellFacts(commands: SimpleCommand[], env: Env, own: Ownership, processEnv: Record<string, string | undefined>) {
  const used: Found[] = [];
  const exposed: Found[] = [];
  const calls: CallDescriptor[] = [];
  let uncertain: string | undefined;
  const fromWord = (w: Word, position: string) => {
    const file = w.files[0];
    const pos = file ? 'file' : position;
    used.push(...scanFormats(w.text, pos, own, file), ...scanUrls(w.text, own, file));
    for (const ref of w.refs) {
      if (!isCredName(ref)) continue;
      const v = env.vars.get(ref) ?? processEnv[ref];
      if (v !== undefined) used.push(...positional(v, 'env', ref, own));
    }
  };

  for (const cmd of commands) {
    for (const a of cmd.assigns) {
      const file = a.value.files[0];
      if (isCredName(a.name)) {
        if (a.value.literal || a.value.files.length) used.push(...positional(a.value.text, file ? 'file' : 'env', a.name, own, file));
        // a value known only when it runs ($(vault read …)): not proof of anything, but not readable either
        else if (/\$\(…\)|\/dev\/fd\//.test(a.value.text)) uncertain ??= `${a.name} is set to a value known only when the command runs`;
        // unset variables expand to nothing: no credential
      } else if (!file) fromWord(a.value, 'env');
      else used.push(...scanContent(a.value.text, 'file', own, file));
    }
    const argv = stripWrappers(cmd.argv);
    if (argv.length === 0) continue;
    for (const w of argv) fromWord(w, 'argument');
    if (cmd.stdin) fromWord(cmd.stdin, 'body');
    const base = argv[0]!.text.split('/').pop()!;
    calls.push({ type: 'command', argv: argv.slice(0, 16).map((w) => (w.literal ? w.text : '?').slice(0, 256)) });

    if (HTTP.has(base)) {
      const r = httpCall(base, argv, cmd, env, own);
      used.push(...r.used);
      calls.push(r.call);
      if (r.uncertain) uncertain ??= r.uncertain;
    } else if (SQL.has(base)) {
      const r = sqlCall(base, argv, cmd, env, own);
      used.push(...r.used);
      if (r.call) calls.push(r.call);
    } else if (PRINT_ENV.has(base) && argv.length <= 2) {
      // printing the environment shows every credential in it
      const names = argv.length === 2 ? [argv[1]!.text] : Object.keys(processEnv);
      for (const n of names) if (isCredName(n) && processEnv[n]) exposed.push(...positional(processEnv[n]!, 'env', n, own));
    } else if (INLINE.has(base)) {
      const ci = argv.findIndex((w) => /^-(e|c|p|-eval|-print)$/.test(w.text));
      if (ci > 0 && argv[ci + 1]) {
        const code = argv[ci + 1]!.text;
        used.push(...scanFormats(code, 'argument', own), ...scanUrls(code, own));
        const gql = /(volumeDelete|backupDelete|DROP\s+(TABLE|DATABASE)|TRUNCATE)/i.exec(code);
        if (gql) uncertain ??= `inline ${base} code that names ${gql[0]}`;
      }
    }
    if (DISPLAY.has(base)) {
      const search = SEARCH.has(base) ? searchOf(base, argv) : undefined;
      const recursive = (base === 'rg' || base === 'ag' || argv.some((w) => /^-[a-zA-Z]*[rR]/.test(w.text) || w.text === '--recursive')) && base !== 'cp';
      const targets = search ? search.files : argv.slice(1).filter((w) => !w.text.startsWith('-') && w.literal);
      // a search that prints names or counts only (-l, -c, --files, -q) shows no content
      const show = (text: string) => (search ? (search.namesOnly ? '' : shownLines(text, search.match, search.context)) : text);
      const scan = (text: string, f: string) => {
        const shown = show(text);
        // read into a captured word ($(grep TOKEN f)), the content feeds the call: a use
        if (shown) (cmd.captured ? used : exposed).push(...scanContent(shown, 'file', own, f));
      };
      const list = search && targets.length === 0 && recursive ? [{ text: '.', literal: true, refs: [], files: [] } as Word] : targets;
      for (const w of list) {
        if (recursive) for (const f of listFiles(env, w.text)) {
          const text = env.readFile(f);
          if (text !== undefined) scan(text, f);
        }
        const text = env.readFile(w.text);
        if (text !== undefined) scan(text, w.text);
      }
    }
    for (const input of cmd.inputs) {
      if (!input.literal) continue;
      const text = env.readFile(input.text);
      if (text === undefined) continue;
      // a file fed into a network or database client is used; into anything else, shown
      (HTTP.has(base) || SQL.has(base) ? used : exposed).push(...scanContent(text, HTTP.has(base) || SQL.has(base) ? 'file' : 'file', own, input.text));
    }
  }
  return { used, exposed, calls, uncertain };
}

/** Options of curl that take a value (so the next word is not the URL). */
