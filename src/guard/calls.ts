// The calls a command line makes, read from its words: HTTP (curl, wget, httpie; GraphQL in the
// body) and SQL (psql, mysql, sqlite3, …), with the credentials each carries. analyze.ts decides
// which command is which; this file reads each one's options.
import { CREDENTIAL_NAME, isCredentialHeader, fromHeader, fromUserinfo, positional, scanContent, scanUrls, type Found, type Ownership } from './secrets.js';
import type { CallDescriptor } from '../core/tool-call.js';
import { stripWrappers, type Env, type SimpleCommand, type Word } from './shell.js';
import { graphqlOf, sqlOf } from './statements.js';

/** `query=…` pairs of form data (`-G --data-urlencode 'query={…}'`) as GraphQL request bodies. */
function formQuery(text: string, literal: boolean): { text: string; literal: boolean }[] {
  const out: { text: string; literal: boolean }[] = [];
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    if (k !== 'query') continue;
    let v = pair.slice(eq + 1);
    try {
      v = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      /* raw, as --data-urlencode sends it */
    }
    out.push({ text: JSON.stringify({ query: v }), literal });
  }
  return out;
}

export function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

export const isCredName = (n: string) => CREDENTIAL_NAME.test(n);

const CURL_VALUE = new Set(['-H', '--header', '-d', '--data', '--data-raw', '--data-binary', '--data-ascii', '--data-urlencode', '--json', '-F', '--form', '--form-string', '-X', '--request', '-u', '--user', '-o', '--output', '-A', '--user-agent', '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '-K', '--config', '--url', '-T', '--upload-file', '-w', '--write-out', '-m', '--max-time', '--connect-timeout', '--retry', '-x', '--proxy', '-U', '--proxy-user', '--oauth2-bearer', '--cacert', '--cert', '--key', '-E', '--resolve', '--connect-to', '-r', '--range', '-C', '--continue-at', '--max-redirs', '--limit-rate', '-Y', '-y', '-z', '--aws-sigv4', '--variable', '--expand-data', '--expand-header', '--expand-url', '-D', '--dump-header', '--trace', '--trace-ascii', '--stderr', '-Q', '--quote', '--interface', '--dns-servers', '-t', '--telnet-option', '--unix-socket', '--abstract-unix-socket', '--netrc-file', '--pinnedpubkey', '--ciphers', '--tls-max', '--proto', '--proto-redir', '--header-file']);
const WGET_VALUE = new Set(['--header', '--post-data', '--post-file', '--body-data', '--body-file', '--method', '--user', '--password', '--http-user', '--http-password', '-O', '--output-document', '-o', '--output-file', '-U', '--user-agent', '-e', '--execute', '-P', '--directory-prefix', '-t', '--tries', '-T', '--timeout', '--load-cookies', '-i', '--input-file']);

export function httpCall(base: string, argv: Word[], cmd: SimpleCommand, env: Env, own: Ownership) {
  const used: Found[] = [];
  let method: string | undefined;
  let url: Word | undefined;
  const bodies: { text: string; file?: string; literal: boolean }[] = [];
  let uncertain: string | undefined;
  const stdinText = (): { text: string; literal: boolean } | undefined => {
    if (cmd.stdin) return { text: cmd.stdin.text, literal: cmd.stdin.literal };
    // `printf '…%s' X | curl -H @-`, `echo … | curl -d @-`: what the command before prints
    const from = cmd.pipedFrom ? printed(cmd.pipedFrom) : undefined;
    if (from) return from;
    // `-H @- < file`, `-d @- < file`: the file is what stdin carries
    const input = cmd.inputs[0];
    const text = input?.literal ? env.readFile(input.text) : undefined;
    return text === undefined ? undefined : { text, literal: true };
  };
  const fileOrValue = (w: Word): { text: string; file?: string; literal: boolean } | undefined => {
    if (w.text.startsWith('@')) {
      const path = w.text.slice(1);
      if (path === '-') return stdinText();
      const text = env.readFile(path);
      if (text === undefined) {
        uncertain ??= `a file the call sends cannot be read (${path.slice(0, 60)})`;
        return undefined;
      }
      return { text, file: path, literal: true };
    }
    return { text: w.text, literal: w.literal, ...(w.files[0] ? { file: w.files[0] } : {}) };
  };
  let override: string | undefined;
  let hostHeader: string | undefined;
  const isCurl = base === 'curl' || base === 'curlie';
  const isWget = base === 'wget';
  const valueOpts = isCurl ? CURL_VALUE : isWget ? WGET_VALUE : new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    let opt = w.text;
    let val: Word | undefined;
    const eq = opt.startsWith('--') ? opt.indexOf('=') : -1;
    if (eq > 0) {
      val = { ...w, text: opt.slice(eq + 1) };
      opt = opt.slice(0, eq);
    } else if (isCurl && /^-[HdXuFbKTx][^-]/.test(opt) && opt.length > 2) {
      // curl -XDELETE, -H'…'
      val = { ...w, text: opt.slice(2) };
      opt = opt.slice(0, 2);
    } else if (valueOpts.has(opt)) val = argv[++i];
    if (!isCurl && !isWget) {
      // httpie / xh: [METHOD] URL [Header:value | key=value | key:=json | @file]
      if (!url && /^[A-Z]+$/.test(w.text)) method = w.text;
      else if (!url && !w.text.startsWith('-')) url = w;
      else if (url && /^[A-Za-z0-9-]+:[^=]/.test(w.text)) used.push(...fromHeader(w.text, own, w.files[0]));
      else if (url && /^[^=:]+:?=/.test(w.text)) {
        const [k, ...rest] = w.text.split(/:?=/);
        const v = rest.join('=');
        if (isCredName(k!) || /^(token|apikey|password|secret)$/i.test(k!)) used.push(...positional(v, 'body', k!, own, w.files[0]));
        bodies.push({ text: JSON.stringify({ [k!]: v }), literal: w.literal });
      } else if (w.text.startsWith('-a') || w.text === '--auth') {
        const v = w.text === '--auth' || w.text === '-a' ? argv[++i] : { ...w, text: w.text.slice(2) };
        if (v) used.push(...fromUserinfo(v.text, 'userinfo', own, v.files[0]));
      }
      continue;
    }
    if (!val && !opt.startsWith('-')) {
      url ??= w;
      continue;
    }
    if (!val) {
      if (opt === '-I' || opt === '--head') method ??= 'HEAD';
      if (opt === '-G' || opt === '--get') method = 'GET';
      continue;
    }
    switch (opt) {
      case '-H':
      case '--header':
      case '--header-file': {
        const v = opt === '--header-file' ? fileOrValue({ ...val, text: `@${val.text}` }) : fileOrValue(val);
        if (v) for (const line of v.text.split(/\r?\n/)) {
          if (!line.trim()) continue;
          used.push(...fromHeader(line, own, v.file));
          // what the server acts on: a method override, the Host it is addressed to
          const h = /^\s*([A-Za-z0-9-]+)\s*:\s*(.*?)\s*$/.exec(line);
          if (h && /^x-(http-)?method(-override)?$/i.test(h[1]!) && /^[A-Za-z]+$/.test(h[2]!)) override = h[2]!.toUpperCase();
          if (h && /^host$/i.test(h[1]!) && h[2]) hostHeader = h[2].replace(/:\d+$/, '').toLowerCase();
        }
        // a credential header whose value is only known when the command runs ($(gh auth token), an unset $VAR)
        if (v && !v.literal && isCredentialHeader(v.text)) uncertain ??= `a credential header whose value cannot be known before the command runs (${v.text.split(':')[0]!.slice(0, 40)})`;
        break;
      }
      case '-u':
      case '--user':
      case '-U':
      case '--proxy-user':
      case '--user:':
        used.push(...fromUserinfo(val.text, 'userinfo', own, val.files[0]));
        if (!val.literal) uncertain ??= 'credentials (-u) whose value cannot be known before the command runs';
        break;
      case '--password':
      case '--http-password':
        used.push(...positional(val.text, 'userinfo', 'password', own, val.files[0]));
        break;
      case '--oauth2-bearer':
        used.push(...positional(val.text, 'header', 'authorization', own, val.files[0]));
        break;
      case '-b':
      case '--cookie':
        if (val.text.includes('=')) used.push(...positional(val.text, 'header', 'cookie', own, val.files[0]));
        break;
      case '-K':
      case '--config': {
        const text = env.readFile(val.text);
        if (text !== undefined) used.push(...scanContent(text, 'file', own, val.text));
        else uncertain ??= 'a curl config file that cannot be read';
        break;
      }
      case '-X':
      case '--request':
      case '--method':
        method = val.text.toUpperCase();
        break;
      case '--url':
        url = val;
        break;
      case '-d':
      case '--data':
      case '--data-raw':
      case '--data-binary':
      case '--data-ascii':
      case '--data-urlencode':
      case '--json':
      case '--post-data':
      case '--body-data':
      case '-F':
      case '--form':
      case '-T':
      case '--upload-file': {
        const v = opt === '--data-raw' ? { text: val.text, literal: val.literal } : opt === '-T' || opt === '--upload-file' ? fileOrValue({ ...val, text: `@${val.text}` }) : fileOrValue(val);
        if (v) bodies.push(v);
        method ??= opt === '-T' || opt === '--upload-file' ? 'PUT' : 'POST';
        break;
      }
      case '--post-file':
      case '--body-file': {
        const v = fileOrValue({ ...val, text: `@${val.text}` });
        if (v) bodies.push(v);
        method ??= 'POST';
        break;
      }
      default:
        break;
    }
  }
  for (const b of bodies) {
    used.push(...scanContent(b.text, b.file ? 'file' : 'body', own, b.file));
  }
  const u = url && (url.literal ? safeUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(url.text) ? url.text : `http://${url.text}`) : undefined);
  if (url) {
    used.push(...scanUrls(url.text, own, url.files[0]));
    if (u) for (const [k, v] of u.searchParams) if (isCredName(k) || /^(token|key|apikey|access_token|auth)$/i.test(k)) used.push(...positional(v, 'query', k, own));
  }
  const m = u?.searchParams.get('_method');
  if (m && /^[A-Za-z]+$/.test(m)) override = m.toUpperCase();
  // an address with a Host header acts on the host named there
  const host = hostHeader ?? (u ? u.hostname.toLowerCase() : '');
  const path = u ? decodeURIComponent(u.pathname) : '';
  const call: CallDescriptor & { type: 'http' } = { type: 'http', method: (override ?? method ?? (bodies.length ? 'POST' : 'GET')).toUpperCase(), host, path };
  // `-G`: the data goes into the URL's query string (GraphQL over GET: `query=…`)
  const asQuery = method === 'GET' && bodies.length > 0;
  const gqlTexts = asQuery ? bodies.flatMap((b) => formQuery(b.text, b.literal)) : bodies.map((b) => ({ text: b.text, literal: b.literal }));
  if (u?.searchParams.get('query')) gqlTexts.push({ text: JSON.stringify({ query: u.searchParams.get('query') }), literal: true });
  const looksGraphql = /graphql/i.test(path) || gqlTexts.some((b) => /\b(mutation|query)\b|"query"/.test(b.text));
  if (looksGraphql) {
    const g = graphqlOf(gqlTexts);
    if (g.unparsed) call.graphqlUnparsed = true;
    call.graphql = { mutations: g.mutations, queries: g.queries };
  }
  return { used, call, uncertain };
}

export function sqlCall(base: string, argv: Word[], cmd: SimpleCommand, env: Env, own: Ownership) {
  const used: Found[] = [];
  const texts: Word[] = [];
  let host: string | undefined;
  let fileDb = false;
  let unresolved = false;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    const t = w.text;
    if (t === '-c' || t === '--command' || t === '-e' || t === '--execute' || t === '--cmd' || t === '-Q' || t === '-q') {
      const v = argv[++i];
      if (v) texts.push(v);
    } else if (/^--(command|execute)=/.test(t)) texts.push({ ...w, text: t.slice(t.indexOf('=') + 1) });
    else if (t === '-f' || t === '--file' || t === '-i') {
      const f = argv[++i];
      const text = f?.literal ? env.readFile(f.text) : undefined;
      texts.push({ text: text ?? '', literal: text !== undefined, refs: [], files: f ? [f.text] : [] });
    } else if (t === '-h' || t === '--host' || t === '-S') host = argv[++i]?.text;
    else if (/^--host=/.test(t)) host = t.slice(7);
    else if (/^-p.+/.test(t) && base !== 'psql') used.push(...positional(t.slice(2), 'argument', 'password', own));
    else if (/^--password=/.test(t)) used.push(...positional(t.slice(11), 'argument', 'password', own));
    else if (/^[a-z]+(ql)?(\+[a-z]+)?:\/\//i.test(t)) {
      const u = safeUrl(t);
      if (u) host = u.hostname;
    } else if ((base === 'sqlite3' || base === 'sqlite' || base === 'duckdb') && !t.startsWith('-') && i >= 2) texts.push(w);
    else if ((base === 'sqlite3' || base === 'sqlite' || base === 'duckdb') && !t.startsWith('-') && i === 1 && w.literal) fileDb = true;
    else if (!w.literal && !t.startsWith('-')) unresolved = true;
  }
  if (cmd.stdin) texts.push(cmd.stdin);
  for (const input of cmd.inputs) if (input.literal) {
    const text = env.readFile(input.text);
    if (text !== undefined) texts.push({ text, literal: true, refs: [], files: [input.text] });
  }
  if (cmd.pipedFrom) {
    const from = stripWrappers(cmd.pipedFrom.argv);
    const b = from[0]?.text.split('/').pop();
    if (b === 'echo' || b === 'printf') texts.push({ text: from.slice(1).map((w) => w.text).join(' '), literal: from.slice(1).every((w) => w.literal), refs: [], files: [] });
    else if (b === 'cat' && from[1]?.literal) {
      const text = env.readFile(from[1].text);
      texts.push({ text: text ?? '', literal: text !== undefined, refs: [], files: [] });
    } else if (from.length) texts.push({ text: '', literal: false, refs: [], files: [] });
  }
  if (texts.length === 0) return { used, call: undefined };
  const r = sqlOf(texts.map((t) => ({ text: t.text, literal: t.literal })), base);
  // a database file, or a client's default (a local socket unless the environment names a host)
  if (!host && !unresolved) {
    if (fileDb || base === 'sqlite3' || base === 'sqlite' || base === 'duckdb' || base === 'litecli') host = 'localhost';
    else if (base === 'psql' || base === 'pgcli') host = env.vars.get('PGHOST') || (env.vars.get('DATABASE_URL') ? safeUrl(env.vars.get('DATABASE_URL')!)?.hostname : undefined) || 'localhost';
    else if (base === 'mysql' || base === 'mariadb' || base === 'mycli') host = env.vars.get('MYSQL_HOST') || 'localhost';
  }
  if (host && /^\//.test(host)) host = 'localhost'; // a socket directory
  // this machine's databases are environment local: nothing there is destructive, so a
  // statement the parser cannot read is no doubt worth a block
  // run on another host through ssh: its local databases are that host's
  if (cmd.remote && (!host || /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|0\.0\.0\.0)$/i.test(host))) host = cmd.remote;
  if (host && /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|0\.0\.0\.0)$/i.test(host)) r.unparsed = false;
  const call: CallDescriptor = { type: 'sql', statements: r.statements, ...(host ? { host } : {}), ...(r.unparsed ? { unparsed: true } : {}), ...(unresolved && !host ? { hostUnresolved: true } : {}) };
  return { used, call };
}

/** What `echo …` or `printf FORMAT …` prints (`%s` filled in order, `\\n` a newline); undefined for anything else. */
export function printed(c: SimpleCommand): { text: string; literal: boolean } | undefined {
  const a = stripWrappers(c.argv);
  const b = a[0]?.text.split('/').pop();
  const args = a.slice(1).filter((w) => !/^-[neE]+$/.test(w.text));
  const literal = args.every((w) => w.literal);
  if (b === 'echo') return { text: args.map((w) => w.text).join(' '), literal };
  if (b !== 'printf' || args.length === 0) return undefined;
  let k = 1;
  const text = args[0]!.text.replace(/%[sdb]/g, () => args[k++]?.text ?? '').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return { text, literal };
}
