// Redis availability for the e2e tests: at 127.0.0.1:6379. With CI=true a missing Redis
// fails the tests that need it; elsewhere they are skipped with the reason printed.
import { Redis } from 'ioredis';

/** Redis at 127.0.0.1:6379 (`E2E_REDIS_URL` overrides it, e.g. to check the skip and CI-failure paths). */
export const REDIS_URL = process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = process.env.CI === 'true';

export interface RedisProbe {
  ok: boolean;
  reason: string;
}

/** Pings Redis once, with a short timeout. */
export async function probeRedis(url = REDIS_URL): Promise<RedisProbe> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? { ok: true, reason: '' } : { ok: false, reason: `Redis at ${url} answered ${pong}` };
  } catch (err) {
    return { ok: false, reason: `Redis at ${url} is not reachable (${err instanceof Error ? err.message : String(err)})` };
  } finally {
    client.disconnect();
  }
}

/**
 * Whether to run the Redis tests: yes when Redis answers, and also in CI (where they must then
 * fail, through {@link requireRedis}); otherwise prints why they are skipped.
 */
export function shouldRunRedis(probe: RedisProbe, what: string): boolean {
  if (probe.ok || IN_CI) return true;
  console.warn(`skipping ${what}: ${probe.reason} (set CI=true to make this a failure)`);
  return false;
}

/** For `beforeAll` of a Redis suite: throws in CI when Redis is missing. */
export function requireRedis(probe: RedisProbe): void {
  if (!probe.ok) throw new Error(`Redis is required in CI: ${probe.reason}`);
}

/** A unique channel name, so parallel runs never see each other's events. */
export function uniqueChannel(tag: string): string {
  return `tessera:e2e:${tag}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
}
