// Seeing credentials: by format (well-known token shapes) and by position (where a value sits:
// an Authorization header, a *TOKEN* variable, URL user info, `-u user:pass`, a JSON `apiKey`).
// Only a kind and a fingerprint ever leave this module; the value never does.
import { createHash } from 'node:crypto';
import type { SeenCredential } from '../core/tool-call.js';

export const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

/**
 * Well-known formats (after the rules of secret scanners such as secretlint's recommended preset).
 * Linear in the input: every unbounded run is preceded by a look-behind that excludes the run's
 * own alphabet, so a match can start only where a run starts, and runs do not overlap (a plain
 * `\b` would let `eyJa-eyJa-eyJa-…` start a scan to the end of the text at every dash).
 */
const FORMATS: { kind: string; re: RegExp }[] = [
  { kind: 'aws_access_key', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}(?![A-Za-z0-9])/g },
  { kind: 'github_token', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])/g },
  { kind: 'github_pat', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/g },
  { kind: 'gitlab_token', re: /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack_token', re: /(?<![A-Za-z0-9-])xox[abposre]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack_webhook', re: /https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/g },
  { kind: 'stripe_key', re: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'anthropic_key', re: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai_key', re: /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}/g },
  { kind: 'google_api_key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  { kind: 'npm_token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g },
  { kind: 'sendgrid_key', re: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g },
  { kind: 'private_key', re: /-----BEGIN (?:[A-Z]+ ){0,6}PRIVATE KEY-----/g },
  { kind: 'jwt', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
];

/** Names of variables, headers and JSON keys whose value is a credential. */
export const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSW(OR)?D|PASSWD|API[_-]?KEY|ACCESS[_-]?KEY|PRIVATE[_-]?KEY|AUTH(?!OR)|CREDENTIAL|(^|[_-])KEY$|(^|[_-])PWD$|^PGPASSWORD$)/i;
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|x-api-key|api-key|apikey|x-auth-token|x-access-token|private-token|x-railway-token|project-access-token|cookie|x-[a-z0-9-]*(token|key|secret|auth)[a-z0-9-]*)$/i;
const JSON_KEY = /^(token|access_?token|refresh_?token|id_?token|api_?key|apikey|secret|client_?secret|password|passwd|private_?key|auth|authorization|credentials?|bearer)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What this task owns: its stint token (and any capability token minted for it). */
export interface Ownership {
  taskId?: string;
  issuer?: string;
  tokens: Set<string>;
}

export interface Found extends SeenCredential {
  /** Never sent: kept only to compare. */
  own: boolean;
}

const decodeJwtPayload = (jwt: string): Record<string, unknown> | undefined => {
  try {
    const part = jwt.split('.')[1]!;
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
const decodeJwtHeader = (jwt: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** A JWT's kind, and whether it is this task's own stint token. DPoP proofs are not credentials. */
function classifyJwt(jwt: string, own: Ownership): { kind: string; own: boolean } | undefined {
  const header = decodeJwtHeader(jwt);
  if (header?.typ === 'dpop+jwt') return undefined;
  const claims = decodeJwtPayload(jwt);
  if (claims && typeof claims.task_id === 'string' && claims.cnf) {
    const mine = own.tokens.has(jwt) || (claims.task_id === own.taskId && (!own.issuer || claims.iss === own.issuer));
    return { kind: 'stint_token', own: mine };
  }
  return { kind: 'jwt', own: own.tokens.has(jwt) };
}

/** Credentials found by format anywhere in `text`. */
export function scanFormats(text: string, position: string, own: Ownership, file?: string): Found[] {
  const out: Found[] = [];
  const sample = text.length > 512 * 1024 ? text.slice(0, 512 * 1024) : text;
  for (const { kind, re } of FORMATS) {
    re.lastIndex = 0;
    for (const m of sample.matchAll(re)) {
      const value = m[0];
      if (isPublishedExample(value)) continue;
      let k = kind;
      let mine = own.tokens.has(value);
      if (kind === 'jwt') {
        const c = classifyJwt(value, own);
        if (!c) continue;
        k = c.kind;
        mine = c.own;
      }
      // Another task's stint token of this task's issuer goes to that issuer whole: only it can
      // verify the signature and revoke the token as leaked (CONTRACT "Stop events, precisely").
      const token = k === 'stint_token' && !mine && own.issuer && decodeJwtPayload(value)?.iss === own.issuer ? value : undefined;
      out.push({ kind: k, fingerprint: fingerprint(value), position, own: mine, ...(file ? { file } : {}), ...(token ? { token } : {}) });
      if (out.length > 50) return out;
    }
  }
  return out;
}

const PLACEHOLDER = /^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\[[^\]]*\]|\*+|x{3,}|X{3,}|\.\.\.|…|changeme|change[-_]?me|null|none|nil|true|false|undefined|redacted|\s*|postgres|password|passw0rd|secret|admin|root|mysql|redis|guest|example|localdev|development)$/i;
/**
 * A value a person chose (words, then a few digits or signs: `wrong-password-123`, `hunter2x`):
 * written into a file it is not proof of a credential (tests and fixtures are full of them);
 * sent in a credential position, it still is.
 */
const WORDISH = /^[A-Za-z]{2,}(?:[-_ .][A-Za-z]{2,}){0,5}[-_ .]?[0-9]{0,4}[!?.#@$%&*]{0,2}$/;
/** Words that mark a value as a stand-in in docs and samples (`your-token-here`, `<redacted>`). */
const STAND_IN = /(your[-_ ]?(api[-_ ]?)?(token|key|secret|password)|[-_ ]here$|^(dummy|fake|sample|example|test|placeholder)[-_]|placeholder|redacted|EXAMPLE|(?<![A-Za-z0-9])[xX*]{3,}$|\.\.\.$|…$)/i;
/** File names (the last segment) whose values are credentials by their nature (`.env*`, `*.env`, credentials, secrets, stores). */
const SECRET_FILE = /^\.env|\.env$|secret|credential|^\.netrc$|^\.pgpass$|^\.npmrc$|^\.pypirc$|^\.my\.cnf$|^\.git-credentials$|\.pem$|\.key$/i;
/** Code, tests, fixtures and docs (not configuration, not an environment or credentials file). */
function codeOrDocs(file: string): boolean {
  const name = file.slice(file.lastIndexOf('/') + 1).slice(0, 256);
  if (SECRET_FILE.test(name)) return false;
  return /\.(ts|tsx|js|jsx|mjs|cjs|py|go|rb|java|kt|rs|php|cs|swift|md|mdx|rst|txt|ipynb)$/i.test(name) || /\.(test|spec)\./i.test(name) || /(^|\/)(test|tests|spec|__tests__|fixtures?|mocks?|__mocks__|examples?|docs?)\//i.test(file.slice(-1024));
}
const DESCRIBES = /(name|names|type|ref|mode|method|methods|policy|path|file|url|uri|endpoint|header|kind|length|minlength|maxlength|ttl|expiry|expiresat|expiresin|lifetime|version|scope|scopes|field|prefix|suffix|format|label|hint|count|size|algorithm|alg|usage|store|provider|location|env|var|id|ids|enabled|required|rotation|strategy|source|issuer|audience)$/i;
/** Words joined by `-`, `_` or `.` (`stripe-secret-key`, `billing_secrets`): the name of a key, not a value. */
const WORDS = /^[a-z]{2,}[0-9]{0,2}(?:[-_.][a-z]{2,}[0-9]{0,2}){1,7}$/;

/**
 * Names, references, templates and expressions are not credentials: only literal values are.
 * `process.env.X`, `env.BILLING_API_TOKEN`, `token.value`, `os.getenv("X")`, `${{ secrets.X }}`,
 * `$X`, `{{ .Values.token }}`, `API_TOKEN` (a variable's name), `secretKeyRef`.
 */
export function isReference(value: string): boolean {
  const v = value.trim().replace(/[,;]+$/, '');
  if (v.length > 512) return false;
  // templates and shell references: ${…}, $(…), {{…}}, <%…%>, #{…}, %{…}, $NAME
  if (/\$\{|\$\(|\{\{|\}\}|<%|%>|#\{|%\{|^\$[A-Za-z_]|^`\$/.test(v)) return true;
  // an expression: a dotted path, an index, a call (`process.env.X`, `os.environ["X"]`, `cfg.get('x')`),
  // alone or followed by an operator (`process.env.X ?? ''`, `env.X || fallback`, `cfg.x as string`)
  if (/^[A-Za-z_$][\w$]*(?:\?\.[A-Za-z_$][\w$]*|\.[A-Za-z_$][\w$]*|\[[^\]\n]{0,80}\]|\([^()\n]{0,80}\))+!?(?:$|[ \t]*(?:\?\?|\|\||&&|\?|\+|as[ \t]|\)))/.test(v)) return true;
  // a call or an index on a name or a dotted path (`os.environ.get("X", ""`, `getenv("X"`, `cfg["x"]`): code
  if (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)*[ \t]*[([]/.test(v)) return true;
  // a variable's name: UPPER_SNAKE_CASE, camelCase
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(v)) return true;
  if (/^[a-z]+(?:[A-Z][a-z]+)+$/.test(v)) return true;
  return false;
}

/** Provider documentation's published sample credentials: not anyone's credential. */
const PUBLISHED_EXAMPLES = new Set([
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  // jwt.io's sample token (HS256, "John Doe")
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30',
  // Stripe's documentation test key
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
]);

export function isPublishedExample(value: string): boolean {
  if (PUBLISHED_EXAMPLES.has(value)) return true;
  // AWS documents its sample keys with an EXAMPLE suffix
  if (/^(AKIA|ASIA)[0-9A-Z]{16}$/.test(value) && value.endsWith('EXAMPLE')) return true;
  if (value.startsWith('eyJ')) {
    const claims = decodeJwtPayload(value);
    if (claims && claims.sub === '1234567890' && claims.name === 'John Doe') return true;
  }
  return false;
}

/**
 * A value that sits in a credential position. Any non-trivial literal value counts, whatever its
 * format: scanners miss infrastructure providers' tokens (Railway's are bare UUIDs). Names,
 * references, templates and stand-ins do not: a stop needs a value.
 */
export function positional(value: string, position: string, name: string, own: Ownership, file?: string): Found[] {
  let v = value.trim();
  const scheme = /^(bearer|basic|token|dpop|bot)\s+/i.exec(v);
  if (scheme) v = v.slice(scheme[0].length).trim();
  if (v.length < 8 || PLACEHOLDER.test(v)) return [];
  const byFormat = scanFormats(v, position, own, file);
  if (byFormat.length) return byFormat;
  // a name that describes a credential rather than holds one (`secretName`, `token_type`,
  // `API_KEY_HEADER`, `auth_method`, `password_min_length`): its value is not a credential
  if (DESCRIBES.test(name.replace(/[^A-Za-z0-9]/g, ''))) return [];
  if (isReference(v) || STAND_IN.test(v) || isPublishedExample(v)) return [];
  // a person-chosen value written into a file, or shown from code, tests or docs (not from
  // configuration, an environment or a credentials file): not proof of a credential
  if ((position === 'write' || (position === 'file' && file && codeOrDocs(file))) && WORDISH.test(v)) return [];
  // `key: stripe-secret-key` (a k8s secretKeyRef, a config's key name): a generic `key` naming a key
  if (/^key$/i.test(name) && WORDS.test(v)) return [];
  let kind = `${position}:${name.toLowerCase()}`;
  if (UUID.test(v)) kind = `uuid_token:${name.toLowerCase()}`;
  else if (/^basic$/i.test(scheme?.[1] ?? '')) kind = 'basic_auth';
  return [{ kind, fingerprint: fingerprint(v), position, own: own.tokens.has(v), ...(file ? { file } : {}) }];
}

/** An HTTP header line `Name: value`: a credential when the name says so (or the value's format does). */
export function fromHeader(line: string, own: Ownership, file?: string): Found[] {
  const i = line.indexOf(':');
  if (i <= 0) return scanFormats(line, 'header', own, file);
  const name = line.slice(0, i).trim();
  const value = line.slice(i + 1).trim();
  if (/^dpop$/i.test(name)) return [];
  if (CREDENTIAL_HEADER.test(name) || CREDENTIAL_NAME.test(name)) return positional(value, 'header', name, own, file);
  return scanFormats(value, 'header', own, file);
}

/** Whether a `Name: value` header line names a credential header. */
export function isCredentialHeader(line: string): boolean {
  const name = line.slice(0, Math.max(0, line.indexOf(':'))).trim();
  return !!name && !/^dpop$/i.test(name) && (CREDENTIAL_HEADER.test(name) || CREDENTIAL_NAME.test(name));
}

/** `user:password` (curl -u, URL user info): the password is the credential. */
export function fromUserinfo(userinfo: string, position: string, own: Ownership, file?: string): Found[] {
  const i = userinfo.indexOf(':');
  const secret = i >= 0 ? userinfo.slice(i + 1) : userinfo;
  let decoded = secret;
  try {
    decoded = decodeURIComponent(secret);
  } catch {
    /* keep raw */
  }
  return positional(decoded, position, 'userinfo', own, file);
}

/** Credentials in URLs' user info within `text` (`https://user:pass@host`, `postgres://u:p@h/db`). */
export function scanUrls(text: string, own: Ownership, file?: string): Found[] {
  const out: Found[] = [];
  // linear: a scheme starts only where a run of scheme characters starts (see FORMATS)
  for (const m of text.matchAll(/(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/([^\s/@"'`]+)@[^\s"'`]+/gi)) {
    if (m[1]!.includes(':')) out.push(...fromUserinfo(m[1]!, 'userinfo', own, file));
  }
  return out;
}

/** JSON (a body, MCP arguments, a credentials file): keys such as `token`, `apiKey`, plus formats. */
export function scanJson(value: unknown, position: string, own: Ownership, file?: string, depth = 0): Found[] {
  if (depth > 12) return [];
  if (typeof value === 'string') return [...scanFormats(value, position, own, file), ...scanUrls(value, own, file)];
  if (Array.isArray(value)) return value.slice(0, 500).flatMap((v) => scanJson(v, position, own, file, depth + 1));
  if (value && typeof value === 'object') {
    const out: Found[] = [];
    for (const [k, v] of Object.entries(value).slice(0, 500)) {
      if (typeof v === 'string' && (JSON_KEY.test(k) || CREDENTIAL_NAME.test(k))) out.push(...positional(v, position, k, own, file));
      else if (/^headers?$/i.test(k) && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [hk, hv] of Object.entries(v)) if (typeof hv === 'string') out.push(...fromHeader(`${hk}: ${hv}`, own, file));
      } else out.push(...scanJson(v, position, own, file, depth + 1));
    }
    return out;
  }
  return [];
}

/** `KEY=value` lines of a dotenv-like file, for `source .env` and for scanning a file's content. */
export function parseDotenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^["'`].*["'`][,;]?$/.test(v)) v = v.replace(/[,;]$/, '');
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    else {
      // unquoted: one word (a scheme and one word): in code, what follows is more expression
      // (`apiToken: env.X, retries: 3 }`), and a dotenv value has no blanks; this also drops a
      // trailing comment
      const w = /^(?:(?:bearer|basic|token|dpop|bot)[ \t]+)?(?:[^\s,]|,(?!\s))+/i.exec(v);
      v = w ? w[0] : '';
    }
    vars.set(m[1]!, v);
  }
  return vars;
}

/**
 * Quoted literals assigned to credential names in code and config (`const RAILWAY_TOKEN = '…'`,
 * `apiKey: "…"`, `"password" => '…'`, `token = "…"`). An unquoted right-hand side is an
 * expression in code, and is judged by `positional` (a reference is not a credential).
 */
export function scanAssignments(text: string, position: string, own: Ownership, file?: string): Found[] {
  const out: Found[] = [];
  // linear: a name starts only where a run of name characters starts
  for (const m of text.matchAll(/(?<![\w$-])([A-Za-z_$][\w$-]{0,100})["']?[ \t]*(?:=|:|=>|:=)[ \t]*(["'`])([^"'`\n]{1,4096})\2/g)) {
    const name = m[1]!;
    if (!(JSON_KEY.test(name) || CREDENTIAL_NAME.test(name))) continue;
    out.push(...positional(m[3]!, position, name, own, file));
    if (out.length > 50) break;
  }
  return out;
}

/**
 * Credential headers written inside any text (`-H "Authorization: Bearer …"` in a script, a
 * headers file, `'X-Api-Key: …'` in code). Linear: a match starts only at a header name.
 */
export function scanHeaderText(text: string, own: Ownership, file?: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(/(?<![\w-])(authorization|proxy-authorization|x-api-key|api-key|x-auth-token|x-access-token|private-token|x-railway-token|project-access-token)[ \t]*:[ \t]*((?:(?:bearer|basic|token|dpop|bot)[ \t]+)?[^\s"'`\\,;)}]{1,4096})/gi)) {
    out.push(...positional(m[2]!, 'header', m[1]!, own, file));
    if (out.length > 50) break;
  }
  return out;
}

/**
 * An auth scheme and a literal joined in code: `"Bearer " + "…"` (JS, Java), `'Bearer ' . '…'`
 * (PHP, Perl), `"Bearer " .. "…"` (Lua), `"Bearer " "…"` (C, Python). Joined to a name
 * (`"Bearer " + token`) it is a reference, not a value. Linear: a match starts only at a quoted scheme.
 */
export function scanSchemeJoin(text: string, position: string, own: Ownership, file?: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(/(["'`])(bearer|basic|token|dpop|bot)[ \t]*\1[ \t]*(?:\+|\.\.?)?[ \t]*(["'`])([^"'`\s\\]{1,4096})\3/gi)) {
    out.push(...positional(m[4]!, position, 'authorization', own, file));
    if (out.length > 50) break;
  }
  return out;
}

/**
 * A `NAME=VALUE` argument whose name says credential (`heroku config:set API_TOKEN=…`, `docker
 * run -e TOKEN=…`, `--from-literal=password=…`, `--set db.password=…`, `vault kv put p token=…`):
 * the value is handed to the command. A person-chosen word is not proof of a credential.
 */
export function argumentAssignment(word: string, own: Ownership): Found[] {
  // after `--option=` or a short option glued to it (`-eTOKEN=…`, `-DAPI_TOKEN=…`)
  const m = /^(?:--?([A-Za-z][\w-]{0,60})=|-[A-Za-z])?([A-Za-z_][\w.-]{0,100})=([^\s]{8,4096})$/.exec(word);
  if (!m) return [];
  // `--from-file=key=path`, `--set-file k=path`: a file's name, not its content
  if (m[1] && /file/i.test(m[1])) return [];
  const name = m[2]!.split('.').pop()!;
  const v = m[3]!;
  if (!CREDENTIAL_NAME.test(name) || WORDISH.test(v) || WORDS.test(v) || NOT_A_VALUE.test(v)) return [];
  // a resource's name (`existingSecret=pg-credentials-v2`): lower-case words and digits joined by
  // dashes, with a letter no hex digit is (a UUID, all hex, is a credential's shape)
  if (/^[a-z0-9]+(?:-[a-z0-9]+)+$/.test(v) && /[g-z]/.test(v) && !UUID.test(v)) return [];
  return positional(v, 'argument', name, own);
}

/** Values that name where a credential is, or which one, rather than hold it: paths, ARNs, `@file`, key ids. */
const NOT_A_VALUE = /^(?:\.{0,2}\/|~\/|@|arn:|0x[0-9a-f]{8,16}$)|^[\w.-]+(?:\/[\w.-]+)+\.[a-z]{1,5}$/i;

/** Everything credential-like in a file's (or any text's) content: formats, user info, `*TOKEN*=`, JSON keys, headers. */
export function scanContent(text: string, position: string, own: Ownership, file?: string): Found[] {
  const out = [...scanFormats(text, position, own, file), ...scanUrls(text, own, file), ...scanAssignments(text, position, own, file), ...scanHeaderText(text, own, file), ...scanSchemeJoin(text, position, own, file)];
  for (const [k, v] of parseDotenv(text)) if (CREDENTIAL_NAME.test(k)) out.push(...positional(v, position, k, own, file));
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      out.push(...scanJson(JSON.parse(t), position, own, file));
    } catch {
      /* not JSON */
    }
  }
  return dedupe(out);
}

export function dedupe(found: Found[]): Found[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const k = `${f.fingerprint}|${f.position}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What may leave the guard: kind, fingerprint, position, file. */
export const wire = (f: Found): SeenCredential => ({ kind: f.kind, fingerprint: f.fingerprint, position: f.position, ...(f.file ? { file: f.file } : {}), ...(f.token ? { token: f.token } : {}) });

/**
 * Text with every credential the scanner can see replaced by `[credential]`: formats anywhere,
 * credential-named headers and assignments, URL user info. For text that leaves the machine
 * (a failed call's error: `curl -v` echoes its headers). Linear, like the scanner.
 */
export function scrub(text: string): string {
  let t = text;
  for (const { re } of FORMATS) t = t.replace(re, '[credential]');
  t = t.replace(/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s/@:"'`]*:)[^\s/@"'`]+@/gi, '$1[credential]@');
  t = t.replace(/(?<![\w-])((?:proxy-)?authorization|cookie|x-api-key|api-key|[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|access[_-]?key)[\w-]*)(["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|dpop)\s+)?([^\s"',;]{4,})/gi, (_m, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ? `${scheme} ` : ''}[credential]`);
  return t;
}
