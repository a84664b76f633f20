import { Buffer } from 'node:buffer';
import { ALGORITHMS, type Algorithm } from '@tessera/core';

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
  /** Origins allowed for CORS and for cookie-authenticated state changes, besides the issuer's own. */
  corsOrigins: string[];
  trustProxy: boolean | number | string[];
  /** How long the `current` key signs before rotation. */
  keyRotationInterval: number;
  /** Resource-server credentials for RFC 7662 introspection: client id → secret. */
  introspectionClients: Map<string, string>;
  logLevel: string;
  /** Scopes a token may carry; a request for any other is refused (`invalid_scope`). */
  scopes: Set<string>;
  /** Redis for the revocation pub/sub channel (verifiers subscribe to it). */
  redisUrl: string | undefined;
  redisChannel: string;
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

function trustProxy(raw: string | undefined): boolean | number | string[] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw.split(',').map((s) => s.trim());
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
  const corsOrigins = list(env, 'TESSERA_CORS_ORIGINS').map((o) => {
    const u = url('TESSERA_CORS_ORIGINS', o);
    return new URL(u).origin;
  });
  const kek = env.TESSERA_KEK || undefined;
  if (kek !== undefined && Buffer.from(kek, 'base64url').length !== 32) {
    throw new ConfigError('TESSERA_KEK', 'must be 32 bytes, base64url-encoded (e.g. `openssl rand -base64 32`)');
  }
  const introspectionClients = new Map<string, string>();
  for (const pair of list(env, 'TESSERA_INTROSPECTION_CLIENTS')) {
    const i = pair.indexOf(':');
    if (i <= 0 || pair.length - i - 1 < 16) {
      throw new ConfigError('TESSERA_INTROSPECTION_CLIENTS', 'must be a comma list of id:secret pairs, secrets at least 16 characters');
    }
    introspectionClients.set(pair.slice(0, i), pair.slice(i + 1));
  }
  const redisUrl = env.TESSERA_REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError('TESSERA_REDIS_URL', 'must be a redis:// or rediss:// URL');
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
    corsOrigins,
    trustProxy: trustProxy(env.TESSERA_TRUST_PROXY),
    keyRotationInterval: integer(env, 'TESSERA_KEY_ROTATION_INTERVAL', 30 * 86_400, 3600, 365 * 86_400),
    introspectionClients,
    logLevel: env.TESSERA_LOG_LEVEL || 'info',
    scopes: new Set((env.TESSERA_SCOPES || 'openid profile email offline_access').split(/[\s,]+/).filter(Boolean)),
    redisUrl,
    redisChannel: env.TESSERA_REDIS_CHANNEL || 'tessera:revocations',
  };
  if (config.sessionIdleTtl > config.sessionAbsoluteTtl) {
    throw new ConfigError('TESSERA_SESSION_IDLE_TTL', 'must not exceed TESSERA_SESSION_ABSOLUTE_TTL');
  }
  return config;
}
