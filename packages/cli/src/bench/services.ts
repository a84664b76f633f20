// PostgreSQL and Redis for the bench: found from the environment (or at their usual local
// addresses), each given a database or key prefix of its own that is removed at the end, so a
// run never touches a deployment's data. A store that cannot be reached is not an error: the
// rows that need it say "skipped" with the reason.
import { randomBytes } from 'node:crypto';
import { createScratchDatabase, deleteKeysByPrefix } from './lib/scratch.js';
import type { Service } from './types.js';

/** The PostgreSQL server of the bench: a database it created (dropped by `release`). */
export interface Postgres extends Service {
  /** The bench database's URL, or null when skipped. */
  url: string | null;
  release(): Promise<void>;
}

/** Redis for the bench: a key prefix of its own (its keys deleted by `release`). */
export interface RedisService extends Service {
  url: string | null;
  /** Prepended to every key and channel the bench uses. */
  prefix: string;
  release(): Promise<void>;
}

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/** host:port of a URL, never its credentials. */
function whereOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(an unparsable URL)';
  }
}

const reason = (err: unknown) => {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  // Driver messages can quote the URL; the code alone names the failure without a secret.
  return typeof code === 'string' ? code : message.replace(/\w+:\/\/\S+/g, '<url>').slice(0, 160);
};

/**
 * The PostgreSQL server named by `TESSERA_DATABASE_URL` when it is a postgres:// URL, else the
 * local default; a fresh database `tessera_bench_<random>` is created there.
 */
export async function openPostgres(env: NodeJS.ProcessEnv): Promise<Postgres> {
  const fromEnv = env.TESSERA_DATABASE_URL;
  const admin = fromEnv && /^postgres(ql)?:\/\//i.test(fromEnv) ? fromEnv : DEFAULT_POSTGRES;
  const where = whereOf(admin);
  const skipped = (why: string): Postgres => ({ where, skipped: why, url: null, release: async () => {} });
  try {
    await import('pg');
  } catch {
    return skipped('the pg driver is not installed');
  }
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  try {
    database = await createScratchDatabase(admin, 'tessera_bench');
  } catch (err) {
    return skipped(`PostgreSQL at ${where} cannot be used (${reason(err)})`);
  }
  return { where, skipped: null, url: database.url, release: () => database.drop().catch(() => {}) };
}

/** Redis from `TESSERA_REDIS_URL`, else the local default, with a key prefix of this run's own. */
export async function openRedis(env: NodeJS.ProcessEnv): Promise<RedisService> {
  const url = env.TESSERA_REDIS_URL || DEFAULT_REDIS;
  const where = whereOf(url.split(',')[0] ?? url);
  const prefix = `tessera-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const skipped = (why: string): RedisService => ({ where, skipped: why, url: null, prefix, release: async () => {} });
  let Redis: typeof import('ioredis').Redis;
  try {
    Redis = (await import('ioredis')).Redis;
  } catch {
    return skipped('the ioredis driver is not installed');
  }
  const connect = async () => {
    const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => {});
    await redis.connect();
    return redis;
  };
  try {
    const probe = await connect();
    await probe.ping();
    probe.disconnect();
  } catch (err) {
    return skipped(`Redis at ${where} is not reachable (${reason(err)})`);
  }
  return {
    where,
    skipped: null,
    url,
    prefix,
    release: async () => {
      const redis = await connect().catch(() => null);
      if (!redis) return;
      await deleteKeysByPrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    },
  };
}
