import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { ALGORITHMS, type Algorithm } from '@tessera/core';
import { ROLE_NAME, type ScopeRoles } from './lib/roles.js';

/** The auth server's configuration, read from the environment (see DESIGN "Configuration"). Durations in seconds. */
export interface Config {
  port: number;
  host: string;
  /** Exact `iss` of every token; also the server's own origin for CSRF checks. */
  issuer: string;
  /** `aud` of access tokens (one or more). */
  audience: string[];
  databaseUrl: string;
  /** Base64url 256-bit key-encryption key; when absent one is generated and kept in the data dir (development). */
  kek: string | undefined;
  accessTokenTtl: number;
  /** Absolute lifetime of a refresh family. */
  refreshTokenTtl: number;
  /** Window in which a rotated refresh token still yields the same successor (two tabs racing). */
  refreshGrace: number;
  sessionIdleTtl: number;
  sessionAbsoluteTtl: number;
  signingAlg: Algorithm;
  /**
   * `TESSERA_ROTATE_NOW`: when the stored current key's algorithm differs from `signingAlg`, switch
   * at start instead of once the new key has been published for the JWKS max-age. Verifiers then
   * meet the new `kid` unannounced and must refetch the JWKS. Default false.
   */
  rotateNow: boolean;
  /** Origins allowed for CORS and for cookie-authenticated state changes, besides the issuer's own. */
  corsOrigins: string[];
  trustProxy: boolean | number | string[];
  /** How long the `current` key signs before rotation. */
  keyRotationInterval: number;
  /**
   * Resource-server credentials (`TESSERA_RESOURCE_SERVERS`, formerly
   * `TESSERA_INTROSPECTION_CLIENTS`): client id → secret, for RFC 7662 introspection and the
   * revocation feed.
   */
  resourceServers: Map<string, string>;
  /** `TESSERA_ALLOW_SHARED_SECRET`: HS256 acknowledged (only holders of the secret can verify). */
  allowSharedSecret: boolean;
  /** Most live sessions (both kinds) one user may hold; a login past it ends the least recently used. */
  maxSessionsPerUser: number;
  /** Accounts one client address may create per hour. */
  signupsPerHour: number;
  /** Seconds a client has to send a whole request, headers and body. */
  requestTimeout: number;
  /** Seconds a connection may sit idle (no bytes either way) before it is closed. */
  connectionTimeout: number;
  /** Seconds an idle keep-alive connection is kept open between requests. */
  keepAliveTimeout: number;
  /** Most open connections from one client address (0: no cap). */
  maxConnectionsPerIp: number;
  logLevel: string;
  /** Scopes a token may carry; a request for any other is refused (`invalid_scope`). */
  scopes: Set<string>;
  /**
   * `TESSERA_SCOPE_ROLES` (`scope=role|role,…`): a scope listed is granted only to users holding one
   * of its roles; one not listed, to any user. Every listed scope is one of `scopes`. Default: none listed.
   */
  scopeRoles: ScopeRoles;
  /** `TESSERA_ADMIN_ROLE`: the role the admin HTTP API requires, read from the store on every call. Default `admin`. */
  adminRole: string;
  /** Redis for the revocation pub/sub channel (verifiers subscribe to it). */
  redisUrl: string | undefined;
  redisChannel: string;
  /** `TESSERA_REDIS_PREFIX`: prepended to every Redis key (sessions, counters), so deployments can share a Redis. Default `tessera:`. */
  redisPrefix: string;
  /** Where sessions live (`TESSERA_SESSION_STORE`): the database, or Redis (needs `redisUrl`). */
  sessionStore: 'database' | 'redis';
  /**
   * `TESSERA_REDIS_PROFILE_TTL` (seconds, default 30; 0 for none): with sessions in Redis, how long
   * a copy of a user's profile is kept beside them, so a cookie lookup reads Redis alone. Changes
   * made through Tessera drop the copy at once; a change made in the database by hand shows within this time.
   */
  profileCopyTtl: number;
  /** Connections in the PostgreSQL pool of each process (`TESSERA_DATABASE_POOL_SIZE`). */
  databasePoolSize: number;
  /** Processes serving on this host (`TESSERA_WORKERS`, node:cluster); 1 runs in this process. */
  workers: number;
}

/** Thrown for invalid configuration; the message names the variable. */
export class ConfigError extends Error {
  constructor(variable: string, why: string) {
    super(`${variable}: ${why}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return n;
}

function url(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(name, 'must be an http(s) URL');
  return value.replace(/\/+$/, '');
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A Redis key prefix: braces would become a Cluster hash tag, glob characters would match other keys. */
function redisPrefix(env: Env): string {
  const prefix = env.TESSERA_REDIS_PREFIX || 'tessera:';
  if (/[{}*?[\]\\\s]/.test(prefix) || prefix.length > 64) {
    throw new ConfigError('TESSERA_REDIS_PREFIX', 'at most 64 characters, without braces, glob characters ({ } * ? [ ] \\) or spaces');
  }
  return prefix;
}

function sessionStore(env: Env, redisUrl: string | undefined): 'database' | 'redis' {
  const raw = env.TESSERA_SESSION_STORE || 'database';
  if (raw !== 'database' && raw !== 'redis') throw new ConfigError('TESSERA_SESSION_STORE', 'must be database or redis');
  if (raw === 'redis' && redisUrl === undefined) throw new ConfigError('TESSERA_SESSION_STORE', 'redis needs TESSERA_REDIS_URL');
  return raw;
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(env[name])}`);
}

/**
 * `TESSERA_RESOURCE_SERVERS` (or its former name `TESSERA_INTROSPECTION_CLIENTS`): `id:secret`
 * pairs, secrets at least 16 characters. The error names the variable, never a secret.
 */
function credentials(env: Env): Map<string, string> {
  const name = env.TESSERA_RESOURCE_SERVERS !== undefined ? 'TESSERA_RESOURCE_SERVERS' : 'TESSERA_INTROSPECTION_CLIENTS';
  const map = new Map<string, string>();
  for (const pair of list(env, name)) {
    const i = pair.indexOf(':');
    if (i <= 0 || pair.length - i - 1 < 16) {
      throw new ConfigError(name, 'must be a comma list of id:secret pairs, secrets at least 16 characters');
    }
    map.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return map;
}

/**
 * `TESSERA_SCOPE_ROLES`: comma-separated `scope=role|role` entries. Each scope must be one the
 * server grants (`TESSERA_SCOPES`), listed once, with at least one valid role name.
 */
function scopeRoles(env: Env, scopes: ReadonlySet<string>): ScopeRoles {
  const name = 'TESSERA_SCOPE_ROLES';
  const map = new Map<string, ReadonlySet<string>>();
  for (const entry of list(env, name)) {
    // Role names hold no `=`, so the last one splits, whatever the scope holds.
    const eq = entry.lastIndexOf('=');
    const scope = entry.slice(0, Math.max(0, eq)).trim();
    const roles = entry
      .slice(eq + 1)
      .split('|')
      .map((r) => r.trim());
    const shown = JSON.stringify(entry.slice(0, 100));
    if (eq <= 0 || scope === '') throw new ConfigError(name, `each entry is scope=role|role; ${shown} is not`);
    if (!scopes.has(scope)) throw new ConfigError(name, `scope ${JSON.stringify(scope.slice(0, 100))} is not one of TESSERA_SCOPES`);
    if (map.has(scope)) throw new ConfigError(name, `scope ${JSON.stringify(scope.slice(0, 100))} is listed twice`);
    const bad = roles.find((r) => !ROLE_NAME.test(r));
    if (bad !== undefined) {
      throw new ConfigError(
        name,
        `role ${JSON.stringify(bad.slice(0, 64))} in ${shown} is invalid: lower-case letters, digits and _ . : - only, starting with a letter`,
      );
    }
    map.set(scope, new Set(roles));
  }
  return map;
}

function adminRole(env: Env): string {
  const role = (env.TESSERA_ADMIN_ROLE ?? '').trim() || 'admin';
  if (!ROLE_NAME.test(role)) {
    throw new ConfigError('TESSERA_ADMIN_ROLE', 'must be a role name: lower-case letters, digits and _ . : - only, starting with a letter');
  }
  return role;
}

/** Names proxy-addr (Fastify's `trustProxy`) resolves to address ranges itself. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, or a CIDR whose prefix fits the address family (`/0`–`/32`, `/0`–`/128`). */
function isAddressOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  const family = isIP(slash < 0 ? entry : entry.slice(0, slash));
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `TESSERA_TRUST_PROXY`: `true`, `false`, a hop count, or a comma list of addresses/CIDRs.
 * Checked here because Fastify's own check only says "invalid IP address", naming nothing.
 */
function trustProxy(raw: string | undefined): boolean | number | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new ConfigError('TESSERA_TRUST_PROXY', 'a hop count must be between 0 and 100');
    return hops;
  }
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!PROXY_RANGES.has(entry) && !isAddressOrCidr(entry)) {
      throw new ConfigError(
        'TESSERA_TRUST_PROXY',
        `must be true, false, a hop count, or a comma list of IP addresses or CIDRs; ${JSON.stringify(entry.slice(0, 64))} is none of these`,
      );
    }
  }
  return entries;
}

/**
 * Reads and validates the configuration. Throws {@link ConfigError} naming the first bad variable.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const issuer = url('TESSERA_ISSUER', env.TESSERA_ISSUER || `http://localhost:${port}`);
  const audience = env.TESSERA_AUDIENCE ? list(env, 'TESSERA_AUDIENCE') : [issuer];
  if (audience.length === 0) throw new ConfigError('TESSERA_AUDIENCE', 'must name at least one audience');
  const signingAlg = (env.TESSERA_SIGNING_ALG || 'ES256') as Algorithm;
  if (!ALGORITHMS.includes(signingAlg)) throw new ConfigError('TESSERA_SIGNING_ALG', `must be one of ${ALGORITHMS.join(', ')}`);
  const allowSharedSecret = flag(env, 'TESSERA_ALLOW_SHARED_SECRET');
  // An HS256 key is a secret: the JWKS stays empty, so a service that verifies from it accepts nothing.
  if (signingAlg === 'HS256' && !allowSharedSecret) {
    throw new ConfigError(
      'TESSERA_SIGNING_ALG',
      'HS256 publishes no key in the JWKS, so no service can verify tokens from it; set TESSERA_ALLOW_SHARED_SECRET=true to acknowledge that only holders of the secret (`tessera keys export --secret`, or `tessera-server keys export-secret`) can verify',
    );
  }
  const corsOrigins = list(env, 'TESSERA_CORS_ORIGINS').map((o) => {
    const u = url('TESSERA_CORS_ORIGINS', o);
    return new URL(u).origin;
  });
  const kek = env.TESSERA_KEK || undefined;
  if (kek !== undefined && Buffer.from(kek, 'base64url').length !== 32) {
    throw new ConfigError('TESSERA_KEK', 'must be 32 bytes, base64url-encoded (e.g. `openssl rand -base64 32`)');
  }
  const resourceServers = credentials(env);
  const redisUrl = env.TESSERA_REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError('TESSERA_REDIS_URL', 'must be a redis:// or rediss:// URL');
  const scopes = new Set((env.TESSERA_SCOPES || 'openid profile email offline_access').split(/[\s,]+/).filter(Boolean));
  const config: Config = {
    port,
    host: env.HOST || '0.0.0.0',
    issuer,
    audience,
    databaseUrl: env.TESSERA_DATABASE_URL || 'sqlite:./data/tessera.db',
    kek,
    accessTokenTtl: integer(env, 'TESSERA_ACCESS_TOKEN_TTL', 600, 30, 86_400),
    refreshTokenTtl: integer(env, 'TESSERA_REFRESH_TOKEN_TTL', 30 * 86_400, 60, 365 * 86_400),
    refreshGrace: integer(env, 'TESSERA_REFRESH_GRACE', 10, 0, 120),
    sessionIdleTtl: integer(env, 'TESSERA_SESSION_IDLE_TTL', 86_400, 60, 365 * 86_400),
    sessionAbsoluteTtl: integer(env, 'TESSERA_SESSION_ABSOLUTE_TTL', 7 * 86_400, 60, 365 * 86_400),
    signingAlg,
    rotateNow: flag(env, 'TESSERA_ROTATE_NOW'),
    corsOrigins,
    trustProxy: trustProxy(env.TESSERA_TRUST_PROXY),
    keyRotationInterval: integer(env, 'TESSERA_KEY_ROTATION_INTERVAL', 30 * 86_400, 3600, 365 * 86_400),
    resourceServers,
    allowSharedSecret,
    maxSessionsPerUser: integer(env, 'TESSERA_MAX_SESSIONS_PER_USER', 100, 1, 100_000),
    signupsPerHour: integer(env, 'TESSERA_SIGNUPS_PER_HOUR', 20, 1, 1_000_000),
    requestTimeout: integer(env, 'TESSERA_REQUEST_TIMEOUT', 30, 1, 3600),
    connectionTimeout: integer(env, 'TESSERA_CONNECTION_TIMEOUT', 120, 1, 3600),
    keepAliveTimeout: integer(env, 'TESSERA_KEEP_ALIVE_TIMEOUT', 5, 1, 600),
    maxConnectionsPerIp: integer(env, 'TESSERA_MAX_CONNECTIONS_PER_IP', 256, 0, 1_000_000),
    logLevel: env.TESSERA_LOG_LEVEL || 'info',
    scopes,
    scopeRoles: scopeRoles(env, scopes),
    adminRole: adminRole(env),
    redisUrl,
    redisChannel: env.TESSERA_REDIS_CHANNEL || 'tessera:revocations',
    redisPrefix: redisPrefix(env),
    sessionStore: sessionStore(env, redisUrl),
    profileCopyTtl: integer(env, 'TESSERA_REDIS_PROFILE_TTL', 30, 0, 3600),
    databasePoolSize: integer(env, 'TESSERA_DATABASE_POOL_SIZE', 10, 1, 1000),
    workers: integer(env, 'TESSERA_WORKERS', 1, 1, 256),
  };
  if (config.sessionIdleTtl > config.sessionAbsoluteTtl) {
    throw new ConfigError('TESSERA_SESSION_IDLE_TTL', 'must not exceed TESSERA_SESSION_ABSOLUTE_TTL');
  }
  // SQLite's refresh-token table references its sessions table, which stays empty when sessions
  // live in Redis; one node needs no shared sessions anyway.
  if (config.sessionStore === 'redis' && config.databaseUrl.startsWith('sqlite:')) {
    throw new ConfigError(
      'TESSERA_SESSION_STORE',
      'redis needs a PostgreSQL database (TESSERA_DATABASE_URL=postgres://…); with SQLite keep sessions in the database',
    );
  }
  // Each worker would hold a database of its own: users, sessions and keys on one are unknown to the others.
  if (config.workers > 1 && (config.databaseUrl === 'memory:' || config.databaseUrl === 'sqlite::memory:')) {
    throw new ConfigError(
      'TESSERA_WORKERS',
      `above 1 needs a database the processes share (a SQLite file or PostgreSQL), not ${config.databaseUrl}`,
    );
  }
  // Without it a PostgreSQL node would seal the signing keys with a random key of its own: the
  // next node, or the same one restarted, could not open them. Refused at the first start instead.
  if (kek === undefined && /^postgres(ql)?:/i.test(config.databaseUrl)) {
    throw new ConfigError('TESSERA_KEK', 'is required with a PostgreSQL database: every node sharing it must use the same key');
  }
  return config;
}
