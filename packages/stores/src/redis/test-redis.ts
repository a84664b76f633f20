// Test-only helpers for the Redis stores: reaching the machine's Redis, cleaning up by prefix,
// and skipping (or, on CI, failing) a suite whose server is missing.
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

/** The machine's Redis, shared with other work: touched only under a prefix of our own. */
export const LOCAL_REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Null when the Redis at `url` answers PING, else why not. */
export async function redisUnavailable(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `no Redis answers at ${new URL(url).host} (${(err as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

/**
 * `describe`, unless `unavailable` says why the backend is missing: then the suite fails with
 * that reason when CI=true (a CI job that silently skips proves nothing), and is skipped with
 * the reason printed elsewhere.
 */
export function describeIfAvailable(name: string, unavailable: string | null, body: () => void): void {
  if (unavailable === null) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its backend', () => {
        throw new Error(`${name}: ${unavailable}. CI=true, so this fails rather than skips.`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${unavailable} (set CI=true to make this a failure)`);
    describe.skip(name, body);
  }
}

/** Deletes every key under `prefix` (SCAN + DEL), leaving the rest of a shared Redis alone. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A TCP port nobody listens on now (and `port + offset` free too, for a cluster bus). */
export async function freePort(offset?: number): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (offset === undefined || (await canListen(port + offset)))) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
