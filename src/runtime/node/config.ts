import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { parseRateLimit, type RateLimitOptions } from '../../http/rate-limit.js';
import { DAY_MS, DEFAULT_RETENTION, type RetentionOptions } from '../../core/retention.js';

export interface NodeConfig {
  host: string;
  port: number;
  approvalPort: number;
  issuer: string;
  dbPath: string;
  approvalDbPath: string;
  /** STINT_DATABASE_URL: `postgres://…` puts the broker on PostgreSQL (several nodes may share it); unset: the SQLite file. */
  databaseUrl?: string;
  /** STINT_APPROVAL_DATABASE_URL: the approval service's PostgreSQL database (or `?schema=`); unset: its SQLite file. */
  approvalDatabaseUrl?: string;
  dbSync: 'normal' | 'full';
  policiesDir: string;
  adminToken: string;
  approvalAdminToken: string;
  masterKey: Uint8Array;
  /** Seals the approval authority's key; only the approval process has it. */
  approvalMasterKey: Uint8Array;
  /** Master keys being rotated out: still opened, re-wrapped under the current key at start. */
  previousMasterKeys: Uint8Array[];
  previousApprovalMasterKeys: Uint8Array[];
  /**
   * The approval service's public URL (STINT_APPROVAL_URL): what the ready line prints, the
   * approvers' `aud` and the `htu` base there. Like the issuer, it is never read off a request.
   */
  approvalUrl: string;
  /** Where the broker reaches the approval service (loopback: both run on this host). */
  approvalReach: string;
  /** Where the approval service reaches the broker. */
  brokerUrl: string;
  /** STINT_RATE_LIMIT: per-source limit on /token, /bc-authorize and the approval service. */
  rateLimit: RateLimitOptions | false;
  /** STINT_ALLOW_PRIVATE_RECEIVERS=1: SET receivers may be on loopback or private addresses. */
  allowPrivateReceivers: boolean;
  /** STINT_TASK_RETENTION_DAYS / STINT_AUDIT_RETENTION_DAYS, in ms (0: kept for ever). */
  retention: RetentionOptions;
  /** STINT_AUDIT_ARCHIVE_DIR: cut audit records are appended there before they are deleted. */
  auditArchiveDir?: string;
  production: boolean;
  /** Human-readable notes for start-up (never secret values). */
  notices: string[];
}

export const SECRET_VARS = ['STINT_ADMIN_TOKEN', 'STINT_APPROVAL_ADMIN_TOKEN', 'STINT_MASTER_KEY', 'STINT_APPROVAL_MASTER_KEY'] as const;
export type SecretVar = (typeof SECRET_VARS)[number];

export class ConfigError extends Error {}

function port(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name} must be a port number, got "${raw}"`);
  return n;
}

/**
 * Reads the STINT_* settings. In development a missing secret is generated once and kept in
 * `<data folder>/secrets.json` (mode 0600); with NODE_ENV=production a missing secret refuses
 * start-up, naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, needs: readonly SecretVar[] = SECRET_VARS): NodeConfig {
  const production = env.NODE_ENV === 'production';
  const host = env.STINT_HOST || '127.0.0.1';
  const p = port(env.STINT_PORT, 'STINT_PORT', 8787);
  const approvalPort = port(env.STINT_APPROVAL_PORT, 'STINT_APPROVAL_PORT', 8788);
  const issuer = publicUrl(env.STINT_ISSUER || `http://localhost:${p}`, 'STINT_ISSUER');
  const dbPath = resolve(env.STINT_DB || './data/stint.db');
  const dataDir = dirname(dbPath);
  const dbSync = (env.STINT_DB_SYNC || 'normal').toLowerCase();
  if (dbSync !== 'normal' && dbSync !== 'full') throw new ConfigError(`STINT_DB_SYNC must be normal or full, got "${env.STINT_DB_SYNC}"`);
  const notices: string[] = [];

  const secrets: Record<string, string> = {};
  // The contract names one master key. So that a deployment with only the contract's secrets
  // works while the broker still cannot open the approval authority's key, an unset approval
  // master key is derived from the approval admin token, which only the approval process has.
  // (Set STINT_APPROVAL_MASTER_KEY to rotate that token independently.)
  const derived = !env.STINT_APPROVAL_MASTER_KEY && env.STINT_APPROVAL_ADMIN_TOKEN
    ? Buffer.from(hkdfSync('sha256', env.STINT_APPROVAL_ADMIN_TOKEN, 'stint', 'stint approval master key v1', 32)).toString('base64')
    : undefined;
  const missing = needs.filter((v) => !env[v] && !(v === 'STINT_APPROVAL_MASTER_KEY' && derived));
  if (missing.length > 0 && production) {
    throw new ConfigError(`${missing[0]} must be set when NODE_ENV=production`);
  }
  if (missing.length > 0) {
    const file = join(dataDir, 'secrets.json');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    let generated = false;
    for (const v of missing) {
      if (!stored[v]) {
        stored[v] = randomBytes(32).toString(v.endsWith('MASTER_KEY') ? 'base64' : 'base64url');
        generated = true;
      }
      secrets[v] = stored[v]!;
    }
    if (generated) writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    notices.push(`development secrets (${missing.join(', ')}) are in ${file}; set them in the environment for production`);
  }
  // A secret this process does not need stays empty: it is never read here.
  const get = (v: SecretVar) => (needs.includes(v) ? env[v] || (v === 'STINT_APPROVAL_MASTER_KEY' ? derived : undefined) || secrets[v]! : '');

  const key = (v: 'STINT_MASTER_KEY' | 'STINT_APPROVAL_MASTER_KEY') => {
    if (!needs.includes(v)) return new Uint8Array(32);
    const k = Buffer.from(get(v), 'base64');
    if (k.length !== 32) throw new ConfigError(`${v} must be 32 bytes, base64-encoded`);
    return new Uint8Array(k);
  };
  const masterKey = key('STINT_MASTER_KEY');
  const previous = (v: string) =>
    (env[v] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => {
        const k = Buffer.from(x, 'base64');
        if (k.length !== 32) throw new ConfigError(`${v} holds 32-byte base64 keys, comma-separated`);
        return new Uint8Array(k);
      });
  const approvalMasterKey = key('STINT_APPROVAL_MASTER_KEY');
  for (const v of needs) {
    if (!v.endsWith('MASTER_KEY') && get(v).length < 16) throw new ConfigError(`${v} is too short (at least 16 characters)`);
  }
  if (get('STINT_ADMIN_TOKEN') && get('STINT_ADMIN_TOKEN') === get('STINT_APPROVAL_ADMIN_TOKEN')) {
    throw new ConfigError('STINT_ADMIN_TOKEN and STINT_APPROVAL_ADMIN_TOKEN must differ');
  }
  if (get('STINT_MASTER_KEY') && get('STINT_MASTER_KEY') === get('STINT_APPROVAL_MASTER_KEY')) {
    throw new ConfigError('STINT_MASTER_KEY and STINT_APPROVAL_MASTER_KEY must differ: the broker must not be able to open the approval key');
  }
  // Internal calls go to loopback when both listen on every interface.
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const databaseUrl = pgUrl(env, 'STINT_DATABASE_URL');
  const approvalDatabaseUrl = pgUrl(env, 'STINT_APPROVAL_DATABASE_URL');
  if (databaseUrl && approvalDatabaseUrl && databaseUrl === approvalDatabaseUrl) {
    throw new ConfigError('STINT_APPROVAL_DATABASE_URL must name another database or schema than STINT_DATABASE_URL: the approval service shares no store with the broker');
  }
  return {
    host,
    port: p,
    databaseUrl,
    approvalDatabaseUrl,
    approvalPort,
    issuer,
    dbPath,
    approvalDbPath: resolve(env.STINT_APPROVAL_DB || join(dataDir, 'approvals.db')),
    approvalUrl: publicUrl(env.STINT_APPROVAL_URL || `http://localhost:${approvalPort}`, 'STINT_APPROVAL_URL'),
    approvalReach: `http://${local}:${approvalPort}`,
    brokerUrl: (env.STINT_BROKER_URL || `http://${local}:${p}`).replace(/\/+$/, ''),
    dbSync,
    policiesDir: resolve(env.STINT_POLICIES || './policies'),
    adminToken: get('STINT_ADMIN_TOKEN'),
    approvalAdminToken: get('STINT_APPROVAL_ADMIN_TOKEN'),
    masterKey,
    approvalMasterKey,
    previousMasterKeys: needs.includes('STINT_MASTER_KEY') ? previous('STINT_MASTER_KEY_PREVIOUS') : [],
    previousApprovalMasterKeys: needs.includes('STINT_APPROVAL_MASTER_KEY') ? previous('STINT_APPROVAL_MASTER_KEY_PREVIOUS') : [],
    rateLimit: rateLimitSetting(env.STINT_RATE_LIMIT),
    allowPrivateReceivers: /^(1|true|yes)$/i.test(env.STINT_ALLOW_PRIVATE_RECEIVERS ?? ''),
    retention: {
      tasksMs: days(env.STINT_TASK_RETENTION_DAYS, 'STINT_TASK_RETENTION_DAYS', DEFAULT_RETENTION.tasksMs),
      auditMs: days(env.STINT_AUDIT_RETENTION_DAYS, 'STINT_AUDIT_RETENTION_DAYS', DEFAULT_RETENTION.auditMs),
    },
    auditArchiveDir: env.STINT_AUDIT_ARCHIVE_DIR ? resolve(env.STINT_AUDIT_ARCHIVE_DIR) : undefined,
    production,
    notices,
  };
}

/** A retention age in whole days (0: for ever), as ms. */
function days(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,5}$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number of days (0 keeps for ever), got "${raw}"`);
  return Number(raw.trim()) * DAY_MS;
}

/** A service's public URL: absolute, no query or fragment, no trailing slash. */
function publicUrl(raw: string, name: string): string {
  const url = raw.replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.search || u.hash || !/^https?:$/.test(u.protocol)) throw new Error();
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL without query or fragment, got "${raw}"`);
  }
  return url;
}

/**
 * A fetch that sends requests for `publicUrl` to `reach` instead: a service keeps its public
 * URL as its identity (`iss`, `aud`, `htu`) while its peer on this host connects over loopback.
 */
export function fetchVia(publicUrl: string, reach: string, f: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url === publicUrl || url.startsWith(`${publicUrl}/`) ? f(reach + url.slice(publicUrl.length), input instanceof Request ? input : init) : f(input, init);
  };
}

function pgUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (!v) return undefined;
  if (!/^postgres(ql)?:\/\//i.test(v)) throw new ConfigError(`${name} must be a postgres:// URL`);
  try {
    new URL(v);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  return v;
}

function rateLimitSetting(value: string | undefined) {
  try {
    return parseRateLimit(value);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}
