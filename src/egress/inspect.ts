// Reading one request at the egress proxy: which credentials it carries (the guard's scanner, by
// position and by format, over headers, URL, query and body), which placeholders, and what it
// does (method, normalised path, GraphQL operations and root fields). Produces the facts the
// broker's tool-call rules decide on: the same rules as the guard and the AuthZEN endpoint.
import { createHash } from 'node:crypto';
import type { CallDescriptor, SeenCredential, ToolCallFacts } from '../core/tool-call.js';
import { hostMatches } from '../core/environments.js';
import { CREDENTIAL_NAME, dedupe, fingerprint, fromHeader, fromUserinfo, positional, scanFormats, scanJson, scanUrls, wire, type Found, type Ownership } from '../guard/secrets.js';
import { graphqlOf, loadStatementParser } from '../guard/statements.js';
import { Placeholders } from './placeholders.js';

export interface EgressRequest {
  method: string;
  /** Absolute URL as the upstream will see it (scheme, host, port, path, query). */
  url: URL;
  /** Raw header pairs, names as sent. */
  headers: [string, string][];
  body: Buffer;
}

export interface Reading {
  /** Credentials that are not this task's: any one is a stop (`substitution`). */
  foreign: SeenCredential[];
  /** Placeholders of this run whose entry does not serve this host. */
  misplaced: string[];
  /** This run's placeholders present (to be replaced by their values). */
  placeholders: string[];
  /** Whether the request carries any credential-position value of its own (then no header is injected). */
  carriesCredential: boolean;
  call: Extract<CallDescriptor, { type: 'http' }>;
  callHash: string;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate']);
export const isHopByHop = (name: string) => HOP.has(name.toLowerCase());

/** `/a//b/./c/%76olumes` → `/a/b/c/volumes`: what a path matcher compares. */
export function normalisePath(pathname: string): string {
  const segs = pathname.split('/').map((s) => s.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  }));
  const out: string[] = [];
  for (const s of segs) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return `/${out.join('/')}`;
}

const looksGraphql = (path: string, body: string) => /graphql|gql/i.test(path) || /^\s*[[{][\s\S]*"(query|operationName|extensions)"\s*:/.test(body.slice(0, 4096));

/**
 * Reads a request. `graphqlHosts`: hosts where a GraphQL matcher applies (a request there with no
 * readable document is `uncertain`). `own`: the task's own stint token(s) and this run's placeholders.
 */
export async function readRequest(req: EgressRequest, o: { placeholders: Placeholders; taskToken: string; taskId: string; issuer: string; graphqlHosts: string[]; servesHost: (entryName: string, host: string) => boolean }): Promise<Reading> {
  const host = req.url.hostname.toLowerCase();
  const mine = o.placeholders.values();
  const own: Ownership = { taskId: o.taskId, issuer: o.issuer, tokens: new Set([o.taskToken, ...mine]) };
  const found: Found[] = [];
  let carriesCredential = false;

  for (const [name, value] of req.headers) {
    if (isHopByHop(name) || /^host$/i.test(name)) continue;
    const f = fromHeader(`${name}: ${value}`, own);
    if (f.length) carriesCredential = true;
    found.push(...f);
  }
  if (req.url.username || req.url.password) {
    carriesCredential = true;
    found.push(...fromUserinfo(`${decodeURIComponent(req.url.username)}:${req.url.password}`, 'userinfo', own));
  }
  for (const [k, v] of req.url.searchParams) {
    if (CREDENTIAL_NAME.test(k) || /^(token|key|apikey|api_key|access_token|auth|sig|signature|password|secret)$/i.test(k)) {
      const f = positional(v, 'query', k, own);
      if (f.length) carriesCredential = true;
      found.push(...f);
    } else found.push(...scanFormats(v, 'query', own));
  }
  const bodyText = req.body.length ? req.body.toString('utf8') : '';
  const type = (req.headers.find(([n]) => /^content-type$/i.test(n))?.[1] ?? '').toLowerCase();
  let json: unknown;
  if (bodyText) {
    const t = bodyText.trim();
    if (type.includes('json') || t.startsWith('{') || t.startsWith('[')) {
      try {
        json = JSON.parse(t);
      } catch {
        json = undefined;
      }
    }
    if (json !== undefined) found.push(...scanJson(json, 'body', own));
    else if (type.includes('x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(bodyText)) found.push(...(CREDENTIAL_NAME.test(k) ? positional(v, 'body', k, own) : scanFormats(v, 'body', own)));
    } else found.push(...scanFormats(bodyText, 'body', own), ...scanUrls(bodyText, own));
  }

  // Placeholders: this run's at a host of their entry are fine; another run's are credentials.
  const everywhere = [...req.headers.map(([, v]) => v), req.url.href, bodyText].join('\n');
  const seen = [...new Set(Placeholders.find(everywhere))];
  const placeholders: string[] = [];
  const misplaced: string[] = [];
  for (const p of seen) {
    const ph = o.placeholders.get(p);
    if (!ph) found.push({ kind: 'stint_placeholder', fingerprint: fingerprint(p), position: 'request', own: false });
    else if (o.servesHost(ph.entry.name, host)) placeholders.push(p);
    else misplaced.push(p);
  }

  // What it does.
  const path = normalisePath(req.url.pathname);
  const call: Reading['call'] = { type: 'http', method: req.method.toUpperCase(), host, path };
  const gqlHost = o.graphqlHosts.some((p) => hostMatches(p, host));
  const queryParam = req.url.searchParams.get('query');
  const docs: { text: string; literal: boolean }[] = [];
  if (queryParam !== null) docs.push({ text: JSON.stringify({ query: queryParam }), literal: true });
  if (bodyText && (gqlHost || looksGraphql(path, bodyText))) {
    if (type.includes('application/graphql')) docs.push({ text: bodyText, literal: true });
    else docs.push({ text: bodyText, literal: true });
  }
  if (docs.length) {
    await loadStatementParser('graphql');
    const g = graphqlOf(docs);
    // A JSON body with no readable `query` (a persisted query, an id) tells nothing of what it does.
    const items = Array.isArray(json) ? json : json && typeof json === 'object' ? [json] : [];
    const noDocument = bodyText !== '' && items.some((it) => !it || typeof it !== 'object' || typeof (it as Record<string, unknown>).query !== 'string');
    if (g.mutations.length || g.queries.length) call.graphql = { mutations: [...new Set(g.mutations)], queries: [...new Set(g.queries)] };
    if (g.unparsed || (noDocument && (gqlHost || looksGraphql(path, bodyText))) || (gqlHost && !call.graphql && req.method.toUpperCase() !== 'GET')) call.graphqlUnparsed = true;
  } else if (gqlHost && !['GET', 'HEAD', 'OPTIONS'].includes(req.method.toUpperCase())) call.graphqlUnparsed = true;

  const canonical = json !== undefined ? JSON.stringify(json) : bodyText;
  const callHash = createHash('sha256').update(`${call.method} ${host}${path}\n${createHash('sha256').update(canonical).digest('hex')}`).digest('hex').slice(0, 32);
  const foreign = dedupe(found.filter((f) => !f.own)).map(wire);
  return { foreign, misplaced, placeholders, carriesCredential, call, callHash };
}

/** The tool-call facts of a read request, for the broker's decision endpoint. */
export function factsOf(r: Reading): ToolCallFacts {
  return {
    stage: 'pre',
    tool: 'egress',
    credentials: r.foreign,
    exposed: [],
    calls: [r.call],
    callHash: r.callHash,
    summary: `${r.call.method} ${r.call.host}${r.call.path}`.slice(0, 200),
  };
}
