// From one normalised event to the facts the broker decides on: the credentials the call uses
// or would show (kind + fingerprint only), the calls it makes (HTTP, GraphQL, SQL, command
// lines) and whether anything could not be read. Files the call pulls in are read, bounded.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { CallDescriptor, ToolCallFacts } from '../core/tool-call.js';
import type { SqlStatementKind } from '../core/policy.js';
import type { GuardEvent } from './event.js';
import { argumentAssignment, dedupe, positional, scrub, scanContent, scanFormats, scanJson, scanUrls, wire, type Found, type Ownership } from './secrets.js';
import { loadShellParser, parseShell, stripWrappers, type Env, type SimpleCommand, type Word } from './shell.js';
import { OutOfTime, within } from './bounded.js';
import { NeedParser } from './need.js';
import { loadStatementParser, sqlOf } from './statements.js';
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

/** Options whose value is a credential. */
const CRED_OPTION = /(^|-)(token|access-token|auth-token|api-token|api-key|apikey|secret|client-secret|secret-key|password|passwd|pass)$/i;

/** Commands that print a stored credential (the value is not in the command: it is the output). */
function credentialPrinter(argv: Word[]): string | undefined {
  const w = argv.map((x) => x.text);
  const base = w[0]?.split('/').pop();
  const has = (...xs: string[]) => xs.every((x) => w.includes(x));
  if (base === 'gh' && has('auth', 'token')) return 'gh auth token';
  if (base === 'gh' && has('auth', 'status') && w.includes('--show-token')) return 'gh auth status --show-token';
  if (base === 'aws' && has('configure', 'get') && w.some((x) => /secret|key|token/i.test(x))) return 'aws configure get';
  if (base === 'aws' && has('configure', 'export-credentials')) return 'aws configure export-credentials';
  if (base === 'aws' && w.some((x) => /^get-(secret-value|session-token|authorization-token|login-password)$/.test(x))) return `aws ${w.find((x) => /^get-/.test(x))}`;
  if (base === 'kubectl' && has('config', 'view') && w.some((x) => x === '--raw' || x === '--flatten')) return 'kubectl config view --raw';
  if (base === 'kubectl' && w.includes('get') && w.some((x) => /^secrets?(\/|$)/.test(x)) && w.some((x) => /^-o(yaml|json|jsonpath.*)?$|^--output/.test(x) || /^(yaml|json)$/.test(x))) return 'kubectl get secret -o';
  if (base === 'git' && w.includes('show') && w.some((x) => /:(.*\/)?\.env(\.|$)|:(.*\/)?(credentials|secrets?)(\.|$)/.test(x))) return 'git show REV:.env';
  if (base === 'git' && has('credential', 'fill')) return 'git credential fill';
  if ((base === 'vault' && (has('kv', 'get') || has('read'))) || (base === 'op' && (w.includes('read') || has('item', 'get')))) return `${base} read`;
  if (base === 'doppler' && has('secrets')) return 'doppler secrets';
  if (base === 'heroku' && has('auth:token')) return 'heroku auth:token';
  if (base === 'gcloud' && w.some((x) => x === 'print-access-token' || x === 'print-identity-token')) return 'gcloud auth print-access-token';
  if (base === 'az' && has('account', 'get-access-token')) return 'az account get-access-token';
  if (base === 'security' && w.some((x) => /^find-(generic|internet)-password$/.test(x)) && w.includes('-w')) return 'security find-password';
  if (base === 'terraform' && w.includes('output') && w.some((x) => x === '-raw' || x === '-json')) return 'terraform output -raw';
  if (base === 'pulumi' && w.includes('--show-secrets')) return 'pulumi --show-secrets';
  if (base === 'heroku' && w.some((x) => x === 'config' || x === 'config:get')) return 'heroku config';
  if (base === 'railway' && (w.includes('variables') || w.includes('vars'))) return 'railway variables';
  if (base === 'vercel' && has('env', 'pull')) return 'vercel env pull';
  // credential stores, shown by any display command (whatever they hold: a .pgpass line or a
  // .netrc entry has no name the scanner would read; .npmrc, .pypirc and .my.cnf are judged by
  // the lines they hold, like any file)
  if (w.slice(1).some((x) => CREDENTIAL_STORE.test(x)) && DISPLAY.has(base ?? '')) return `a credential store (${w.slice(1).find((x) => CREDENTIAL_STORE.test(x))})`;
  return undefined;
}

const CREDENTIAL_STORE = /(^|\/)(\.netrc|\.pgpass|\.git-credentials|\.aws\/credentials|\.docker\/config\.json|\.kube\/config|\.config\/gh\/hosts\.yml|\.railway\/config\.json)$/;

const INLINE = new Set(['node', 'python', 'python3', 'ruby', 'perl', 'php', 'deno', 'bun', 'osascript', 'pwsh', 'powershell', 'lua', 'Rscript', 'julia']);
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
    const env: Env = { vars, readFile: (p) => readFile(isAbsolute(p) ? p : resolve(env.cwd || ev.cwd || '.', p)), cwd: ev.cwd };
    const parsed = parseShell(ev.command, env);
    uncertain = parsed.uncertain;
    const r = shellFacts(parsed.commands, env, own, ctx.env);
    used.push(...r.used);
    exposed.push(...r.exposed);
    calls.push(...r.calls);
    uncertain ??= r.uncertain;
    summary = ev.command.replace(/\s+/g, ' ').slice(0, 160);
  }
  // Gemini's read_many_files: `include` paths and glob patterns, read from the workspace
  const reads = [...ev.filesRead];
  const include = ev.kind === 'read' && ev.args && typeof ev.args === 'object' ? (ev.args as Record<string, unknown>).include : undefined;
  if (Array.isArray(include)) {
    const env: Env = { vars: new Map(), readFile, cwd: ev.cwd };
    let all: string[] | undefined;
    for (const p of include.slice(0, 50)) {
      if (typeof p !== 'string') continue;
      if (!/[*?[{]/.test(p)) reads.push(p);
      else {
        all ??= listFiles(env, '.');
        const re = globRegex(p);
        for (const f of all) if (re.test(relative(ev.cwd || '.', f))) reads.push(f);
      }
    }
  }
  for (const f of reads) {
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
    const r = mcpFacts(ev, own, ctx.env, readFile);
    used.push(...r.used);
    exposed.push(...r.exposed);
    calls.push(...r.calls);
    uncertain ??= r.uncertain;
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
    // scrubbed with the same scanner before it leaves the machine
    ...(ev.error ? { error: scrub(ev.error.slice(0, 8000)).slice(0, 2000) } : {}),
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

function shellFacts(commandsIn: SimpleCommand[], env: Env, own: Ownership, processEnv: Record<string, string | undefined>) {
  const used: Found[] = [];
  const exposed: Found[] = [];
  const calls: CallDescriptor[] = [];
  let uncertain: string | undefined;
  // commands found inside others (awk system(), find -exec) are appended and read in turn
  const commands = [...commandsIn];
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
    // `env NAME=value cmd` (also after sudo): assignments as words
    for (const w of cmd.argv) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.text);
      if (m && cmd.argv.some((x) => x.text.split('/').pop() === 'env') && isCredName(m[1]!) && w.literal) used.push(...positional(m[2]!, 'env', m[1]!, own, w.files[0]));
    }
    env.cwd = cmd.cwd ?? env.cwd;
    const argv = stripWrappers(cmd.argv);
    const raw = cmd.argv[0]?.text.split('/').pop();
    if (argv.length === 0 && (raw === 'env' || raw === 'printenv')) {
      // `env` alone prints the whole environment; a grep it is piped into shows only its lines
      const grep = commands.find((c) => c.pipedFrom === cmd && SEARCH.has(stripWrappers(c.argv)[0]?.text.split('/').pop() ?? ''));
      const g = grep ? stripWrappers(grep.argv) : undefined;
      const match = g ? searchOf(g[0]!.text.split('/').pop()!, g).match : () => true;
      for (const [n, v] of Object.entries(processEnv)) if (v && isCredName(n) && match(`${n}=${v}`)) exposed.push(...positional(v, 'env', n, own));
    }
    if (argv.length === 0) continue;
    for (const w of argv) fromWord(w, 'argument');
    if (cmd.stdin) fromWord(cmd.stdin, 'body');
    const base = argv[0]!.text.split('/').pop()!;
    // what a command writes into a file (`echo X >> .env`, `cat > f <<EOF`, `… | tee f`): a write
    const written = writtenText(base, argv, cmd);
    if (written) used.push(...scanContent(written.text, 'write', own, written.file));
    // a dry run (`--dry-run`, `--dry-run=client|server`, `--dryrun`) acts on nothing
    // (for the CLIs that honour it: elsewhere an unknown flag may be ignored and the command run)
    if (!(/^(kubectl|oc|helm|aws|az|gsutil)$/.test(base) && argv.some((w) => /^--dry-?run(=(client|server|true|all))?$/.test(w.text)))) calls.push({ type: 'command', argv: argv.slice(0, 16).map((w) => (w.literal ? w.text : '?').slice(0, 256)) });

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
    } else if (INLINE.has(base) || base === 'awk' || base === 'gawk' || base === 'mongosh' || base === 'mongo') {
      // interpreter code (-c, -e, -r, --eval, a script file, a here-document on stdin): read as code
      const ci = argv.findIndex((w, i) => i > 0 && /^-(e|c|r|p|E|-eval|-print|-command)$/.test(w.text));
      const codes: Word[] = [];
      if (ci > 0 && argv[ci + 1]) codes.push(argv[ci + 1]!);
      else if (base === 'awk' || base === 'gawk') {
        const prog = argv.slice(1).find((w) => !w.text.startsWith('-'));
        if (prog) codes.push(prog);
      } else {
        const script = argv.slice(1).find((w) => !w.text.startsWith('-'));
        const text = script?.literal ? env.readFile(script.text) : undefined;
        if (text !== undefined) codes.push({ text, literal: true, refs: [], files: [script!.text] });
      }
      if (cmd.stdin) codes.push(cmd.stdin);
      for (const code of codes) {
        if (!code.literal && code !== cmd.stdin) uncertain ??= `${base} code that is not known before it runs`;
        used.push(...scanContent(code.text, code.files[0] ? 'file' : 'argument', own, code.files[0]));
        // what the code runs or sends, when it names it: a destructive operation is doubt, never allowed blind
        const named = /(volumeDelete|backupDelete|DROP\s+(TABLE|DATABASE|SCHEMA)|TRUNCATE\s|\bFLUSHALL\b|terminate-instances|delete-db-instance)/i.exec(code.text);
        // the shell commands the code runs by a literal (os.system("…"), subprocess.run([…]), execSync('…'))
        const before = commands.length;
        const runs = subprocessCommands(code.text);
        for (const line of runs) commands.push(...parseShell(line, env, Math.min(cmd.depth + 1, 4)).commands);
        if (named && commands.length === before) uncertain ??= `${base} code that names ${named[0]}`;
        if (runs.dynamic) uncertain ??= `${base} code that runs a shell command built at run time`;
        if (base === 'mongosh' || base === 'mongo') {
          const kinds: SqlStatementKind[] = [];
          if (/\.(deleteMany|remove)\(\s*\{\s*\}\s*\)/.test(code.text)) kinds.push('delete_without_where');
          if (/\.drop\(\s*\)/.test(code.text)) kinds.push('drop_table');
          if (/dropDatabase\(/.test(code.text)) kinds.push('drop_database');
          const uri = argv.find((w) => /^mongodb(\+srv)?:\/\//.test(w.text));
          const host = uri ? safeUrl(uri.text)?.hostname : argv[argv.findIndex((w) => w.text === '--host') + 1]?.text;
          if (kinds.length) calls.push({ type: 'sql', statements: kinds, host: host ?? 'localhost' });
        }
        if (base === 'awk' || base === 'gawk') {
          // awk's system("…") runs a shell command
          for (const m of code.text.matchAll(/system\(\s*"((?:[^"\\]|\\.){0,4000})"\s*\)/g)) {
            const inner = parseShell(m[1]!.replace(/\\(.)/g, '$1'), env, 1);
            if (inner.uncertain) uncertain ??= inner.uncertain;
            commands.push(...inner.commands);
          }
          if (/system\(\s*[^"\s]/.test(code.text)) uncertain ??= 'awk system() of a command built at run time';
        }
      }
    }
    // find -exec / -execdir / -ok: the command after it runs (once per file)
    if (base === 'find') {
      const at = argv.findIndex((w) => /^-(exec|execdir|ok|okdir)$/.test(w.text));
      if (at > 0) {
        const end = argv.findIndex((w, i) => i > at && (w.text === ';' || w.text === '+'));
        const sub = argv.slice(at + 1, end > 0 ? end : undefined);
        if (sub.length) commands.push({ argv: sub, assigns: [], inputs: [], outputs: [], depth: cmd.depth + 1 });
      }
    }
    // credential-named options of any command: `--access-token X`, `--api-key=X`, `redis-cli -a X`
    for (let i = 1; i < argv.length; i++) {
      const t = argv[i]!.text;
      if (argv[i]!.literal) used.push(...argumentAssignment(t, own));
      // `aws [--profile p] configure [--profile p] set aws_secret_access_key VALUE`: a credential stored for later calls
      if (base === 'aws' && argv[i - 1]?.text === 'set' && argv.slice(1, i - 1).some((w) => w.text === 'configure') && isCredName(t) && argv[i + 1]?.literal) used.push(...positional(argv[i + 1]!.text, 'argument', t, own));
      // `gh secret set NAME -bVALUE`: the value glued to its option
      if (base === 'gh' && argv[1]?.text === 'secret' && /^-b./.test(t) && argv[i]!.literal) used.push(...positional(t.slice(2), 'argument', 'body', own));
      const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(t);
      if (!m) continue;
      const name = m[1]!;
      // `gh secret set NAME --body VALUE` (or -b), `az keyvault secret set --value VALUE`: the value becomes a stored secret
      const ghSecret = (base === 'gh' && argv[1]?.text === 'secret' && (name === 'body' || t === '-b')) || (base === 'az' && argv.some((w) => w.text === 'secret') && name === 'value');
      const isCred = (CRED_OPTION.test(name) && !/^(token-file|password-file|key-file|keyfile|ssh-key|key-name|secret-name|token-name|auth-type|auth-mode)$/i.test(name)) || ghSecret || (base === 'redis-cli' && t === '-a') || (base === 'sshpass' && t === '-p') || (base === 'docker' && t === '-p' && argv.some((w) => w.text === 'login'));
      if (!isCred) continue;
      const v = m[2] !== undefined ? { ...argv[i]!, text: m[2] } : argv[i + 1];
      if (!v || (m[2] === undefined && v.text.startsWith('-'))) continue;
      if (v.literal) used.push(...positional(v.text, 'argument', name, own, v.files[0]));
    }
    // credential printers: what they print is a credential stint did not issue
    const printer = credentialPrinter(argv);
    // (captured into the call, its value is known only when it runs: doubt, not proof)
    if (printer && cmd.captured) uncertain ??= `a credential printed by ${printer} is used in the call`;
    else if (printer) exposed.push({ kind: `printed:${printer}`, fingerprint: hash(`printer:${printer}`).slice(0, 16), position: 'printer', own: false });
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

/** The text a command writes into a file, and the file: redirections of echo/printf/cat, and tee. */
function writtenText(base: string, argv: Word[], cmd: SimpleCommand): { text: string; file: string } | undefined {
  const sink = (w: Word) => w.literal && !/^\/dev\/(null|std(out|err)|tty|fd\/\d+)$/.test(w.text);
  const files = base === 'tee' ? argv.slice(1).filter((w) => !w.text.startsWith('-') && sink(w)) : cmd.outputs.filter(sink);
  if (files.length === 0) return undefined;
  const echoed = (c: SimpleCommand | undefined) => {
    const a = c ? stripWrappers(c.argv) : [];
    const b = a[0]?.text.split('/').pop();
    return b === 'echo' || b === 'printf' ? a.slice(1).filter((w) => !/^-[neE]+$/.test(w.text)).map((w) => w.text).join(' ') : undefined;
  };
  const text = base === 'echo' || base === 'printf' ? echoed(cmd) : base === 'cat' || base === 'tee' ? (cmd.stdin?.text ?? echoed(cmd.pipedFrom)) : undefined;
  return text ? { text, file: files[0]!.text } : undefined;
}

/**
 * Shell commands that interpreter code runs by a literal: `os.system("…")`, `subprocess.run("…",
 * shell=True)` or `subprocess.run(["terraform", "destroy"])`, `execSync('…')`, `system("…")`.
 * Linear: a match starts only at a function's name, and its string is bounded.
 */
export function subprocessCommands(code: string): string[] & { dynamic?: boolean } {
  const out: string[] & { dynamic?: boolean } = [];
  // a command built at run time (`os.system(cmd)`, `system("terraform " + x)`): not known before it runs
  if (/(?<![\w$])(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen)|execSync|spawnSync|shell_exec|passthru)[ \t]*\([ \t]*(?![fr]?["'`\[])/.test(code) || /(?<![\w$])(?:os\.system|os\.popen|execSync|system)[ \t]*\([ \t]*(["'])(?:(?!\1)[^\\\n]|\\.){0,4000}\1[ \t]*[+%]/.test(code)) out.dynamic = true;
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  for (const m of code.matchAll(/(?<![\w$])(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen)|execSync|execFileSync|spawnSync|exec|system|shell_exec|passthru)[ \t]*\([ \t]*(?:[fr]?(["'`])((?:(?!\1)[^\\\n]|\\.){1,4000})\1|\[([^\]\n]{1,2000})\])/g)) {
    if (m[2] !== undefined) out.push(unescape(m[2]));
    else if (m[3] !== undefined) {
      const words = [...m[3].matchAll(/(["'])((?:(?!\1)[^\\\n]|\\.){0,500})\1/g)].map((w) => unescape(w[2]!));
      if (words.length) out.push(words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' '));
    }
    if (out.length >= 20) break;
  }
  return out;
}

const SQL_START = /^\s*(select|insert|update|delete|drop|truncate|alter|create|with|explain|grant|revoke|merge|copy)\b/i;

/**
 * An MCP tool's arguments, read like a command: text scanned for credentials by position,
 * a `command` argument as shell, SQL (`sql`, `statement`, or a `query` that is SQL) as
 * statements sent to a database the hook cannot name, a `url` with a `method` as HTTP.
 */
function mcpFacts(ev: GuardEvent, own: Ownership, processEnv: Record<string, string | undefined>, readFile: (p: string) => string | undefined) {
  const used: Found[] = [];
  const exposed: Found[] = [];
  const calls: CallDescriptor[] = [];
  let uncertain: string | undefined;
  const raw = ev.args as Record<string, unknown> | undefined;
  // Cursor's beforeMCPExecution: the tool's own arguments are `tool_input` (`command`/`url` are the server's)
  const args = ev.harness === 'cursor' && raw && 'tool_input' in raw ? raw.tool_input : raw;
  let budget = 200;
  const walk = (v: unknown, key: string, depth: number, parent: Record<string, unknown> | undefined) => {
    if (budget-- <= 0 || depth > 8) return;
    if (typeof v === 'string') {
      used.push(...scanContent(v, 'mcp', own));
      if (/^(command|cmd|script|shell|bash)$/i.test(key)) {
        const vars = new Map<string, string>();
        for (const [k, x] of Object.entries(processEnv)) if (x !== undefined) vars.set(k, x);
        const env: Env = { vars, readFile: (p) => readFile(isAbsolute(p) ? p : resolve(env.cwd || ev.cwd || '.', p)), cwd: ev.cwd };
        const parsed = parseShell(v, env);
        uncertain ??= parsed.uncertain;
        const r = shellFacts(parsed.commands, env, own, processEnv);
        used.push(...r.used);
        exposed.push(...r.exposed);
        calls.push(...r.calls);
        uncertain ??= r.uncertain;
      } else if (/^(sql|statement|statements)$/i.test(key) || (/^query$/i.test(key) && SQL_START.test(v))) {
        const r = sqlOf([{ text: v, literal: true }], 'psql');
        if (r.statements.length || r.unparsed) calls.push({ type: 'sql', statements: r.statements, hostUnresolved: true, ...(r.unparsed ? { unparsed: true } : {}) });
      } else if (/^(url|uri|endpoint)$/i.test(key) && parent) {
        const u = safeUrl(v);
        const method = typeof parent.method === 'string' ? parent.method.toUpperCase() : 'GET';
        if (u) calls.push({ type: 'http', method, host: u.hostname.toLowerCase(), path: u.pathname });
      }
    } else if (Array.isArray(v)) v.slice(0, 100).forEach((x) => walk(x, key, depth + 1, parent));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v).slice(0, 100)) walk(x, k, depth + 1, v as Record<string, unknown>);
  };
  walk(args, '', 0, undefined);
  return { used, exposed, calls, uncertain };
}

/** A glob (`**\/*.env`, `src/*.ts`, `.env*`) as a test of a relative path. */
function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length && i < 256; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:[^/]*/)*' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^(?:\\./)?${re}$`);
}
