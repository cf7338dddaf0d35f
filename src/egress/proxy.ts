// The egress proxy of `stint run`: the sandbox's only way out. HTTP forward proxy and CONNECT.
// Hosts it must read (custody hosts, action matchers' hosts, `egress.inspect`) have TLS
// terminated with the run's CA and every request read whole (up to the inspection cap) and
// decided before a byte leaves; hosts in `egress.allow` are tunnelled unread; anything else is
// refused. Decisions go through the broker's tool-call rules (the guard's path); a request with no
// credential, no GraphQL and a method no action matcher names is allowed here without a round
// trip, as long as the task is live (the event stream says so).
// HTTP/2: where TLS is terminated, ALPN offers `http/1.1` only, so every HTTP/2 client (curl,
// Node, Go, Python's httpx) negotiates HTTP/1.1 and each request is read by one parser; reading
// h2 streams too would add a second parser for no request the first cannot carry. Tunnelled
// hosts negotiate whatever they like end to end. WebSocket: relayed at tunnelled hosts, refused
// (403 `upgrade`) at hosts the proxy must read (see the 'upgrade' listeners).
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { createSecureContext, rootCertificates, TLSSocket } from 'node:tls';
import type { ToolCallDecision } from '../core/decide.js';
import type { CustodyInput } from '../core/custody.js';
import { hostMatches } from '../core/environments.js';
import type { RunCa } from './ca.js';
import { factsOf, isHopByHop, readRequest, type EgressRequest } from './inspect.js';
import type { Placeholders } from './placeholders.js';
import { problem, rawRefusal } from './problem.js';
import { relayUpgrade, upgradeRefused } from './upgrade.js';

export const DEFAULT_BODY_CAP = 64 * 1024;
/** Largest refused body read and thrown away so that its sender reads the refusal (not a reset). */
const DRAIN_MAX = 16 * 1024 * 1024;
/** Largest answer read (to mask an echoed custody value) from a host a custody value was sent to. */
export const RESPONSE_CAP = 8 * 1024 * 1024;
/** Where `stint guard` inside the sandbox asks the supervisor (origin-form, on the proxy's socket). */
export const GUARD_PATH = '/.stint/guard';

export interface ProxyOptions {
  taskId: string;
  taskToken: string;
  issuer: string;
  ca: RunCa;
  placeholders: Placeholders;
  custody: CustodyInput[];
  inspect: string[];
  allow: string[];
  /** Hosts where GraphQL matchers apply. */
  graphqlHosts: string[];
  /** Methods the policy's HTTP action matchers name: such requests always go to the broker. */
  decideMethods: string[];
  /** Asks the broker's rules (AuthZEN). Throws when the broker cannot be reached. */
  decide: (facts: ReturnType<typeof factsOf>) => Promise<ToolCallDecision>;
  /** Whether the task is live as far as the event stream knows; a rule and reason when not. */
  liveness: () => { live: boolean; rule?: string; reason?: string };
  /** Told once when the broker stopped the task on a request of ours. */
  onStop?: (rule: string, reason: string) => void;
  /** `host` → `address:port` (STINT_EGRESS_RESOLVE). */
  resolve?: Map<string, string>;
  /** Extra CA certificates (PEM) trusted for upstreams (STINT_EGRESS_UPSTREAM_CA). */
  upstreamCa?: string;
  bodyCap?: number;
  /** One line per decision (never a value). */
  log?: (line: Record<string, unknown>) => void;
}

class Refusal extends Error {
  constructor(readonly status: number, readonly rule: string, readonly detail: string, readonly extra: Record<string, unknown> = {}) {
    super(detail);
  }
}

export function parseResolve(spec: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i > 0) m.set(part.slice(0, i).toLowerCase(), part.slice(i + 1));
  }
  return m;
}

function replaceAll(text: string, map: Map<string, string>): string {
  let out = text;
  for (const [from, to] of map) out = out.split(from).join(to);
  return out;
}

export function createEgressProxy(o: ProxyOptions) {
  const cap = o.bodyCap ?? DEFAULT_BODY_CAP;
  const log = o.log ?? (() => {});
  const inspected = (host: string) => o.inspect.some((p) => hostMatches(p, host)) || o.custody.some((c) => c.hosts.some((p) => hostMatches(p, host)));
  const allowed = (host: string) => o.allow.some((p) => hostMatches(p, host));
  const servesHost = (name: string, host: string) => o.custody.some((c) => c.name === name && c.hosts.some((p) => hostMatches(p, host)));
  // Built once: a `ca` list given per request is parsed into a new context for every connection
  // (the public roots and the extra CA, ≈ 140 certificates) and, with an agent, stringified into
  // every request's pool key; at 200 req/s over HTTPS that alone saturated the machine.
  const upstreamContext = o.upstreamCa ? createSecureContext({ ca: [...rootCertificates, o.upstreamCa] }) : undefined;
  let stopped: { rule: string; reason: string } | undefined;

  const target = (host: string, port: number) => {
    const r = o.resolve?.get(host.toLowerCase()) ?? o.resolve?.get(`${host.toLowerCase()}:${port}`);
    if (!r) return { host, port };
    const i = r.lastIndexOf(':');
    return i > 0 ? { host: r.slice(0, i), port: Number(r.slice(i + 1)) } : { host: r, port };
  };

  /**
   * Writes a refusal. A client still sending its body (one over the cap, refused unread) would
   * get a reset instead of the answer if the socket closed with its bytes unread, so the rest
   * of the body is read and thrown away first (up to DRAIN_MAX, at most 5 s): nothing of it is
   * sent anywhere, and the client reads why.
   */
  const refuseResponse = (res: ServerResponse, e: Refusal) => {
    if (res.headersSent) return res.destroy();
    let done = false;
    const write = () => {
      if (done || res.headersSent || res.destroyed) return;
      done = true;
      res.writeHead(e.status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', Connection: 'close' });
      res.end(problem(e.status, e.rule, e.detail, e.extra));
    };
    const req = res.req as IncomingMessage | undefined;
    if (!req || req.complete || req.readableEnded) return write();
    let seen = 0;
    req.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen > DRAIN_MAX) write();
    });
    req.on('end', write);
    req.on('error', write);
    setTimeout(write, 5000).unref();
    req.resume();
  };

  /** Reads the body up to the cap; beyond it the request is refused (and nothing of it read on). */
  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > cap) return reject(new Refusal(403, 'inspection_cap', `the body (${declared} bytes) is larger than the inspection cap (${cap} bytes)`));
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > cap) {
          req.removeListener('data', onData);
          chunks.length = 0;
          reject(new Refusal(403, 'inspection_cap', `the body is larger than the inspection cap (${cap} bytes)`));
        } else chunks.push(c);
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  /** Decides and forwards one request to `scheme://host:port`. */
  async function handle(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https', host: string, port: number) {
    const started = performance.now();
    try {
      const live = o.liveness();
      if (stopped) throw new Refusal(403, stopped.rule, `task ${o.taskId} was stopped: ${stopped.reason}`);
      if (!live.live) throw new Refusal(403, live.rule ?? 'task_not_live', live.reason ?? `task ${o.taskId} is not live`);
      // (Node hands upgrades to the 'upgrade' listeners; this is the belt to their braces.)
      if (req.headers.upgrade) throw new Refusal(403, 'upgrade', `a ${req.headers.upgrade} upgrade to ${host} is refused: its frames could not be read`);
      const body = await readBody(req);
      const path = req.url?.startsWith('/') ? req.url : new URL(req.url ?? '/').pathname + new URL(req.url ?? '/').search;
      const url = new URL(`${scheme}://${host}${(scheme === 'https' && port === 443) || (scheme === 'http' && port === 80) ? '' : `:${port}`}${path}`);
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const er: EgressRequest = { method: req.method ?? 'GET', url, headers, body };
      const r = await readRequest(er, { placeholders: o.placeholders, taskToken: o.taskToken, taskId: o.taskId, issuer: o.issuer, graphqlHosts: o.graphqlHosts, servesHost });
      if (r.misplaced.length && !r.foreign.length) throw new Refusal(403, 'placeholder_host', `a placeholder of this run was sent to ${host}, which its custody entry does not serve`);
      const needsBroker = r.foreign.length > 0 || r.call.graphql !== undefined || r.call.graphqlUnparsed === true || o.decideMethods.includes(r.call.method);
      if (needsBroker) {
        let d: ToolCallDecision;
        try {
          d = await o.decide(factsOf(r));
        } catch (e) {
          throw new Refusal(403, 'broker_unreachable', `no decision: ${(e as Error).message}`);
        }
        if (!d.decision) {
          const rule = d.context.rule ?? d.context.code ?? 'refused';
          if (d.context.stopped) {
            stopped = { rule, reason: d.context.reason };
            o.onStop?.(rule, d.context.reason);
          }
          throw new Refusal(403, rule, d.context.reason, { ...(d.context.code ? { code: d.context.code } : {}), ...(d.context.auth_req_id ? { auth_req_id: d.context.auth_req_id } : {}), ...(d.context.stopped ? { stopped: true } : {}) });
        }
      }
      // Allowed: the placeholders become their values, on the wire only.
      const subs = new Map<string, string>();
      for (const p of r.placeholders) subs.set(p, o.placeholders.get(p)!.entry.value);
      const out: Record<string, string | string[]> = {};
      for (const [n, v] of headers) {
        if (isHopByHop(n)) continue;
        const key = n.toLowerCase();
        const value = subs.size ? replaceAll(v, subs) : v;
        const prev = out[key];
        out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      if (!r.carriesCredential && r.placeholders.length === 0) {
        const inject = o.custody.find((c) => c.header && c.hosts.some((p) => hostMatches(p, host)));
        if (inject) out[inject.header!.toLowerCase()] = `${inject.scheme ? `${inject.scheme} ` : ''}${inject.value}`;
      }
      if (o.custody.some((c) => c.hosts.some((p) => hostMatches(p, host)))) out['accept-encoding'] = 'identity';
      const sendBody = subs.size && body.length ? Buffer.from(replaceAll(body.toString('utf8'), subs)) : body;
      if (sendBody.length || out['content-length'] !== undefined) out['content-length'] = String(sendBody.length);
      const upstreamPath = subs.size ? replaceAll(url.pathname + url.search, subs) : url.pathname + url.search;
      const t = target(host, port);
      await new Promise<void>((resolve, reject) => {
        const opts = { host: t.host, port: t.port, method: er.method, path: upstreamPath, headers: out, servername: /^[0-9.]+$/.test(host) ? undefined : host, ...(upstreamContext ? { secureContext: upstreamContext } : {}) };
        const up = (scheme === 'https' ? httpsRequest : httpRequest)(opts, (ur) => {
          const rh: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined && !isHopByHop(k)) rh[k] = v;
          // A custody value the provider echoes back must not reach the sandbox: answers from a
          // host that got one are read (identity-encoded, up to the cap) and the value masked.
          const values = [...new Set(o.custody.filter((c) => c.hosts.some((p) => hostMatches(p, host))).map((c) => c.value))];
          const encoded = (ur.headers['content-encoding'] ?? 'identity') !== 'identity';
          if (values.length === 0) {
            res.writeHead(ur.statusCode ?? 502, rh);
            ur.pipe(res);
            ur.on('end', resolve);
            ur.on('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          ur.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= RESPONSE_CAP) chunks.push(c);
          });
          ur.on('error', reject);
          ur.on('end', () => {
            if (size > RESPONSE_CAP || (encoded && size > 0)) {
              // Cannot read it to mask: refused rather than relayed unread.
              res.writeHead(502, { 'Content-Type': 'application/problem+json', Connection: 'close' });
              res.end(problem(502, 'response_unreadable', `the answer from ${host} is ${encoded ? `${ur.headers['content-encoding']}-encoded` : `larger than ${RESPONSE_CAP} bytes`}; it is not relayed unread where a custody value was sent (ask for identity encoding)`));
              return resolve();
            }
            let text = Buffer.concat(chunks).toString('utf8');
            const mask = new Map(values.map((v) => [v, '[stint: custody value withheld]']));
            text = replaceAll(text, mask);
            for (const k of Object.keys(rh)) if (typeof rh[k] === 'string') rh[k] = replaceAll(rh[k] as string, mask);
            rh['content-length'] = String(Buffer.byteLength(text));
            delete rh['transfer-encoding'];
            res.writeHead(ur.statusCode ?? 502, rh);
            res.end(text);
            resolve();
          });
        });
        up.on('error', reject);
        up.end(sendBody);
      });
      log({ decision: 'allow', method: r.call.method, host, path: r.call.path, broker: needsBroker, ms: +(performance.now() - started).toFixed(2) });
    } catch (e) {
      if (e instanceof Refusal) {
        log({ decision: 'refuse', rule: e.rule, method: req.method, host });
        return refuseResponse(res, e);
      }
      log({ decision: 'error', host, error: (e as Error).message });
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/problem+json', Connection: 'close' });
        res.end(problem(502, 'upstream', `the upstream ${host} could not be reached: ${(e as Error).message}`));
      } else res.destroy();
    }
  }

  // Requests inside terminated TLS tunnels land on this server.
  const inner = createHttpServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    const t = (req.socket as TLSSocket & { stintTarget?: { host: string; port: number } }).stintTarget!;
    const hostHeader = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (hostHeader && hostHeader !== t.host.toLowerCase()) return refuseResponse(res, new Refusal(403, 'host_mismatch', `the Host header (${hostHeader}) is not the tunnel's host (${t.host})`));
    void handle(req, res, 'https', t.host, t.port);
  });
  inner.on('clientError', (_e, socket) => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nConnection: close\r\n\r\n' + problem(400, 'malformed', 'malformed HTTP request')));

  /**
   * `stint guard` inside the sandbox: its tool-call facts (kinds and fingerprints, never values)
   * go to the broker with this supervisor's task token. Nothing the agent can write decides: the
   * task, the key and the broker are the supervisor's.
   */
  async function guardDecision(req: IncomingMessage, res: ServerResponse) {
    try {
      const body = await readBody(req);
      let facts: ReturnType<typeof factsOf>;
      try {
        facts = JSON.parse(body.toString('utf8'));
        if (!facts || typeof facts !== 'object' || typeof facts.callHash !== 'string' || !Array.isArray(facts.calls)) throw new Error('not tool-call facts');
      } catch (e) {
        throw new Refusal(400, 'malformed', `the guard's facts cannot be read (${(e as Error).message})`);
      }
      if (stopped && facts.stage === 'pre') throw new Refusal(403, stopped.rule, `task ${o.taskId} was stopped: ${stopped.reason}`);
      let d: ToolCallDecision;
      try {
        d = await o.decide(facts);
      } catch (e) {
        throw new Refusal(403, 'broker_unreachable', `no decision: ${(e as Error).message}`);
      }
      if (!d.decision && d.context.stopped) {
        const rule = d.context.rule ?? d.context.code ?? 'refused';
        stopped ??= { rule, reason: d.context.reason };
        o.onStop?.(rule, d.context.reason);
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(d));
    } catch (e) {
      if (e instanceof Refusal) return refuseResponse(res, e);
      refuseResponse(res, new Refusal(500, 'internal', 'the supervisor failed to decide'));
    }
  }

  const outer: Server = createHttpServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    if (req.method === 'POST' && req.url === GUARD_PATH) return void guardDecision(req, res);
    let u: URL;
    try {
      u = new URL(req.url ?? '');
    } catch {
      return refuseResponse(res, new Refusal(400, 'malformed', 'a proxy request needs an absolute http:// URL'));
    }
    if (u.protocol !== 'http:') return refuseResponse(res, new Refusal(400, 'malformed', `only http:// is proxied this way (use CONNECT for ${u.protocol})`));
    const host = u.hostname.toLowerCase();
    const port = Number(u.port || 80);
    if (!inspected(host) && !allowed(host)) return refuseResponse(res, new Refusal(403, 'egress_not_allowed', `${host} is not in the policy's egress.allow`));
    void handle(req, res, 'http', host, port);
  });
  // Every socket of the sandbox's, tunnels and upgrades included, so the end of the run ends them.
  const sockets = new Set<Socket>();
  outer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  outer.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nConnection: close\r\n\r\n' + problem(400, 'malformed', 'malformed HTTP request'));
  });
  // Upgrades: refused where the proxy reads (it does not read frames), relayed where it tunnels.
  inner.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const t = (req.socket as TLSSocket & { stintTarget?: { host: string } }).stintTarget;
    log({ decision: 'refuse', rule: 'upgrade' });
    rawRefusal(socket, 403, 'upgrade', upgradeRefused(req.headers.upgrade, t?.host ?? 'this host'));
  });
  outer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
    relayUpgrade(req, socket, head, {
      gate: () => {
        const live = o.liveness();
        if (stopped) return [403, stopped.rule, `task ${o.taskId} was stopped: ${stopped.reason}`];
        if (!live.live) return [403, live.rule ?? 'task_not_live', live.reason ?? 'task not live'];
        return undefined;
      },
      inspected,
      allowed,
      target,
      log,
    }),
  );
  outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    const fail = (status: number, rule: string, detail: string) => {
      rawRefusal(socket, status, rule, detail);
      log({ decision: 'refuse', rule, connect: req.url });
    };
    if (!m) return fail(400, 'malformed', 'CONNECT needs host:port');
    const host = m[1]!.toLowerCase();
    const port = Number(m[2]);
    const live = o.liveness();
    if (stopped) return fail(403, stopped.rule, `task ${o.taskId} was stopped: ${stopped.reason}`);
    if (!live.live) return fail(403, live.rule ?? 'task_not_live', live.reason ?? 'task not live');
    if (inspected(host)) {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) socket.unshift(head);
      void o.ca.contextFor(host).then(
        (secureContext) => {
          const tls = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] }) as TLSSocket & { stintTarget?: { host: string; port: number } };
          tls.stintTarget = { host, port };
          tls.on('error', () => tls.destroy());
          inner.emit('connection', tls);
        },
        () => socket.destroy(),
      );
      return;
    }
    if (!allowed(host)) return fail(403, 'egress_not_allowed', `${host} is not in the policy's egress.allow`);
    const t = target(host, port);
    const up = netConnect(t.port, t.host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
      log({ decision: 'tunnel', host });
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
  });
  outer.on('error', () => {});

  return {
    server: outer,
    /** Stops every further request (a stop, a revocation, the end of the run). */
    halt(rule: string, reason: string) {
      stopped ??= { rule, reason };
    },
    close: () =>
      new Promise<void>((r) => {
        outer.close(() => r());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
