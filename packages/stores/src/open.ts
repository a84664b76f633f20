import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isStoreUnavailable, StoreConfigError } from './errors.js';
import type { HashReader } from './redis/hash-reader.js';
import { InvalidRedisUrlError } from './redis/open.js';
import type { Stores } from './types.js';

/** Options of {@link openStores} beyond the database URL. */
export interface OpenStoresOptions {
  /** Connections in a PostgreSQL pool. Default 10. */
  poolSize?: number;
  /**
   * Redis (`redis://…`, `rediss://…`; several comma-separated URLs for Redis Cluster): login-failure
   * counters move there, shared by every node, and so do sessions with `sessionStore: 'redis'`.
   */
  redisUrl?: string;
  /** Where cookie and token sessions live: the database (default) or Redis (needs `redisUrl`). */
  sessionStore?: 'database' | 'redis';
  /** Prepended to every Redis key, so deployments (or test runs) can share one Redis. Default `tessera:`. */
  redisPrefix?: string;
  /** With sessions in Redis, the lifetime of the profile copies beside them, ms (default 30,000; 0 for none). */
  profileCopyTtlMs?: number;
}

type Opener = (rest: string, url: string, options: OpenStoresOptions) => Promise<Stores>;

/**
 * One opener per URL scheme. Each loads its driver only when called, so importing
 * `@tessera/stores` loads none.
 */
const SCHEMES: Readonly<Record<string, Opener>> = {
  memory: async (rest) => {
    if (rest !== '') throw new StoreConfigError('TESSERA_DATABASE_URL', 'memory: takes no path');
    const { createMemoryStores } = await import('./memory/index.js');
    return createMemoryStores();
  },
  sqlite: async (rest) => {
    // URL form with an empty authority: sqlite:///var/lib/x.db → /var/lib/x.db.
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw new StoreConfigError('TESSERA_DATABASE_URL', `sqlite: needs a path; supported: ${SUPPORTED}`);
    const { createSqliteStores } = await import('./sqlite/index.js');
    if (path === ':memory:') return createSqliteStores({ path });
    const file = resolve(path);
    // Owner only: the directory holds the database and, by default, the key-encryption key.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return createSqliteStores({ path: file });
  },
  postgres: async (_rest, url, options) => {
    const { createPostgresStores } = await import('./postgres/index.js');
    return createPostgresStores({ connectionString: url, ...(options.poolSize !== undefined ? { max: options.poolSize } : {}) });
  },
};
const ALIASES: Readonly<Record<string, string>> = { postgresql: 'postgres' };

const SUPPORTED = 'memory:, sqlite:<path> (for example sqlite:./data/tessera.db, or sqlite::memory:) and postgres://user@host/db';

/**
 * Opens the stores named by a database URL (the value of `TESSERA_DATABASE_URL`):
 *
 * - `memory:` — in-process, nothing persists;
 * - `sqlite:<path>` — a SQLite file, relative to the working directory unless absolute; its
 *   directory is created (mode 0700) and the file is readable by its owner only. `sqlite::memory:`
 *   is a private in-memory database. The URL form `sqlite:///abs/path` is accepted too;
 * - `postgres://…` (or `postgresql://…`) — a PostgreSQL pool of `poolSize` connections; pending
 *   migrations are applied at open, under an advisory lock.
 *
 * With `redisUrl`, login-failure counters (and, with `sessionStore: 'redis'`, sessions) live in
 * Redis instead. Anything else throws an error naming the variable and the supported schemes,
 * never the URL itself (it may carry a password).
 *
 * @example
 * const stores = await openStores(process.env.TESSERA_DATABASE_URL ?? 'sqlite:./data/tessera.db');
 */
export async function openStores(databaseUrl: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl);
  const scheme = match?.[1]?.toLowerCase() ?? '';
  const opener = SCHEMES[ALIASES[scheme] ?? scheme];
  if (!opener) {
    // Only the scheme goes in the message: the rest of a URL may carry a password.
    throw new StoreConfigError(
      'TESSERA_DATABASE_URL',
      `unsupported scheme ${match?.[0] ?? '(none)'}; this version of Tessera supports ${SUPPORTED}`,
    );
  }
  if (options.sessionStore === 'redis' && options.redisUrl === undefined) {
    throw new StoreConfigError('TESSERA_SESSION_STORE', 'redis needs TESSERA_REDIS_URL');
  }
  const base = await opener(databaseUrl.slice(scheme.length + 1), databaseUrl, options).catch((err: unknown) => {
    throw startupError('TESSERA_DATABASE_URL', 'the database', err);
  });
  if (options.redisUrl === undefined) return base;
  let stores: Stores | undefined;
  let reader: HashReader | undefined;
  try {
    const { openHashReader, openRedis, withRedisStores } = await import('./redis/index.js');
    const urls = options.redisUrl.split(',').map((u) => u.trim());
    const redis = await openRedis(urls);
    const sessions = options.sessionStore === 'redis';
    // Sessions are read on every cookie-authenticated request: on a single Redis, through a
    // connection of their own (a cluster routes by slot, which only the driver does).
    if (sessions && urls.length === 1) reader = openHashReader(urls[0] as string, { fallback: redis });
    stores = withRedisStores(base, redis, {
      sessions,
      ...(reader ? { reader } : {}),
      ...(options.redisPrefix !== undefined ? { prefix: options.redisPrefix } : {}),
      ...(options.profileCopyTtlMs !== undefined ? { profileCopyTtlMs: options.profileCopyTtlMs } : {}),
    });
    // Reached now, so a wrong address stops the start instead of failing the first login.
    await stores.ping();
    return stores;
  } catch (err) {
    await (stores ?? base).close().catch(() => {});
    if (!stores) await reader?.quit();
    throw startupError('TESSERA_REDIS_URL', 'Redis', err);
  }
}

/**
 * The error a start fails with when a store cannot be opened: it names the variable to fix and
 * the driver's error code, never the URL (it may carry a password).
 */
function startupError(variable: string, what: string, err: unknown): unknown {
  if (err instanceof StoreConfigError) return err;
  if (err instanceof InvalidRedisUrlError) return new StoreConfigError(variable, err.message, err);
  const code = (err as { code?: unknown } | null)?.code;
  if (isStoreUnavailable(err)) {
    return new StoreConfigError(variable, `${what} cannot be reached${typeof code === 'string' ? ` (${code})` : ''}`, err);
  }
  if (typeof code !== 'string') return err;
  // The URL does not parse: say so, without repeating it.
  if (code === 'ERR_INVALID_URL') return new StoreConfigError(variable, 'is not a valid URL', err);
  // PostgreSQL refused the connection: no such database (3D000), role or password (class 28).
  // Its message names the database or the role, never the password.
  if (code === '3D000' || code.startsWith('28')) {
    return new StoreConfigError(variable, `${what} refused the connection: ${(err as Error).message} (${code})`, err);
  }
  // A SQLite file that cannot be opened or is not a database; a directory that cannot be made.
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_NOTADB' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EROFS') {
    return new StoreConfigError(variable, `${what} cannot be opened (${code})`, err);
  }
  return err;
}
