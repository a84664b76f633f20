/**
 * A Redis URL (or list of them) that cannot be used as given. The message names what is wrong,
 * never the URL: it may carry a password.
 */
export class InvalidRedisUrlError extends Error {
  readonly code = 'invalid_redis_url';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRedisUrlError';
  }
}

/** Where and how to connect, from a Redis URL. */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
}

/**
 * Parses a `redis://` or `rediss://` URL. Errors name the scheme at most: the rest of the URL
 * may carry a password, and Node's own URL error would keep the whole input on the error object.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRedisUrlError('Redis URL is not a valid URL (expected redis://[user:password@]host[:port][/db] or rediss://…)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidRedisUrlError(`Redis URL: unsupported scheme ${parsed.protocol}; expected redis: or rediss:`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^(?:0|[1-9][0-9]?)$/.test(db)) throw new InvalidRedisUrlError('Redis URL: the path must be a database number');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
    ...(db !== '' && { db: Number(db) }),
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
}
