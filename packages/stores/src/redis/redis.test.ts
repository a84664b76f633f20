import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions, ReplyError } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, makeSession, makeUser, T0 } from '../contract/fixtures.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { isStoreUnavailable } from '../errors.js';
import { createMemoryStores } from '../memory/index.js';
import type { Stores } from '../types.js';
import { withRedisStores } from './compose.js';
import { openHashReader } from './hash-reader.js';
import { redisKeys } from './keys.js';
import { openRedis } from './open.js';
import { createRedisRateLimitStore } from './rate-limits.js';
import { createRedisSessionStore } from './sessions.js';
import { clusterUnavailable, startCluster, type TestCluster } from './test-cluster.js';
import { deleteByPrefix, describeIfAvailable, freePort, LOCAL_REDIS_URL, redisUnavailable } from './test-redis.js';

/** This run's keys on the shared Redis all start with it; afterAll deletes them. */
const RUN_PREFIX = `tessera-test:${randomUUID()}:`;
let tests = 0;
/** Fresh, empty Redis stores for each contract test: a prefix of their own. */
const testPrefix = (): string => `${RUN_PREFIX}${++tests}:`;

/**
 * Memory stores with sessions and rate limits on Redis, owning a new client; with `reader`,
 * sessions are read through an {@link openHashReader} of their own, as `openStores` does on a
 * single Redis.
 */
async function openComposed(url: string | string[], reader = false): Promise<Stores> {
  const redis = await openRedis(url);
  if (!reader) return withRedisStores(createMemoryStores(), redis, { prefix: testPrefix() });
  const hashReader = openHashReader(url as string, { fallback: redis });
  // Connected before the first read, so the contract runs over the reader's own connection.
  for (let waited = 0; !hashReader.connected; waited += 10) {
    if (waited > 5_000) throw new Error('openHashReader did not connect');
    await new Promise((r) => setTimeout(r, 10));
  }
  return withRedisStores(createMemoryStores(), redis, { prefix: testPrefix(), reader: hashReader });
}

/**
 * Stores as two auth nodes see one Redis: separate clients (separate connections), one prefix.
 * Returns both session stores and a function closing the clients.
 */
async function twoNodes(url: string | string[]) {
  const prefix = testPrefix();
  const clients = [await openRedis(url), await openRedis(url)];
  const users = createMemoryStores().users;
  const [a, b] = clients.map((redis) => createRedisSessionStore(redis, { users, prefix }));
  return { a: a!, b: b!, prefix, close: () => Promise.all(clients.map((c) => c.quit())) };
}

/** Checks shared by the single Redis and the cluster, beyond the contract. */
function redisBehaviour(url: () => string | string[]): void {
  it('concurrent revokes of one session from two nodes: exactly one true per session', async () => {
    const { a, b, close } = await twoNodes(url());
    try {
      const user = makeUser();
      const sessions = Array.from({ length: 20 }, () => makeSession(user.id));
      await Promise.all(sessions.map((s) => a.create(s)));
      const results = await Promise.all(
        sessions.flatMap((s) => [0, 1, 2].flatMap((i) => [a.revoke(s.id, T0 + i), b.revoke(s.id, T0 + i)])),
      );
      for (let i = 0; i < sessions.length; i++) expect(results.slice(i * 6, i * 6 + 6).filter(Boolean)).toHaveLength(1);
      const again = await Promise.all([
        a.revokeUser(user.id, T0 + 9),
        b.revokeMany(
          sessions.map((s) => s.id),
          T0 + 9,
        ),
      ]);
      expect(again).toEqual([[], []]);
    } finally {
      await close();
    }
  });

  it('deleteExpired prunes the user index, and drops what Redis already expired', async () => {
    const { a, prefix, close } = await twoNodes(url());
    const raw = await openRedis(url());
    try {
      const keys = redisKeys(prefix);
      const user = makeUser();
      const dead = makeSession(user.id, { idleExpiresAt: T0 + 1 });
      const live = makeSession(user.id, { idleExpiresAt: T0 + HOUR });
      // One millisecond of absolute lifetime: Redis removes the key itself, before any sweep.
      const vanished = makeSession(user.id, { idleExpiresAt: T0 + 1, absoluteExpiresAt: T0 + 1 });
      for (const s of [dead, live, vanished]) await a.create(s);
      await new Promise((r) => setTimeout(r, 20));
      expect(await a.get(vanished.id)).toBeNull();
      expect(await a.deleteExpired(T0 + 2)).toBe(1);
      expect(await raw.zrange(keys.userSessions(user.id), 0, -1)).toEqual([live.id]);
      expect(await a.get(dead.id)).toBeNull();
      expect(await a.get(live.id)).toEqual(live);
    } finally {
      await raw.quit();
      await close();
    }
  });

  it('touch that moves the idle expiry earlier is seen by deleteExpired', async () => {
    const { a, close } = await twoNodes(url());
    try {
      const s = makeSession(makeUser().id, { idleExpiresAt: T0 + HOUR });
      await a.create(s);
      await a.touch(s.id, T0 + 1, T0 + 2);
      expect(await a.deleteExpired(T0 + 3)).toBe(1);
      expect(await a.get(s.id)).toBeNull();
    } finally {
      await close();
    }
  });
}

const localUnavailable = await redisUnavailable(LOCAL_REDIS_URL);

describeIfAvailable('redis (single server)', localUnavailable, () => {
  afterAll(async () => {
    const redis = new Redis(LOCAL_REDIS_URL);
    try {
      await deleteByPrefix(redis, RUN_PREFIX);
      expect(await deleteByPrefix(redis, RUN_PREFIX)).toBe(0);
    } finally {
      await redis.quit();
    }
  });

  describeStoreContract('redis', () => openComposed(LOCAL_REDIS_URL), { sessionsWithUsers: false });
  describeStoreContract('redis, sessions read through openHashReader', () => openComposed(LOCAL_REDIS_URL, true), {
    sessionsWithUsers: false,
  });
  redisBehaviour(() => LOCAL_REDIS_URL);

  // Stale roles: a node (or the admin command) configured without copies of its own must still
  // drop the copies other nodes keep, or a revoked role lives on there until the copy expires.
  it('a change through stores composed without profile copies drops the copy other nodes keep', async () => {
    const base = createMemoryStores();
    const prefix = testPrefix();
    const [a, b] = [await openRedis(LOCAL_REDIS_URL), await openRedis(LOCAL_REDIS_URL)];
    const node = withRedisStores(base, a, { prefix });
    const admin = withRedisStores(base, b, { prefix, profileCopyTtlMs: 0 });
    try {
      const user = makeUser({ roles: ['admin'] });
      await base.users.create(user);
      const session = makeSession(user.id);
      await node.sessions.create(session);
      expect((await node.sessions.getWithUser(session.id))?.user.roles).toEqual(['admin']);
      expect(await admin.users.changeRoles(user.id, { set: [] }, T0 + 1)).toEqual([]);
      expect((await node.sessions.getWithUser(session.id))?.user.roles).toEqual([]);
      expect(await admin.users.delete(user.id)).toBe(true);
      expect(await node.sessions.getWithUser(session.id)).toBeNull();
    } finally {
      await Promise.all([a.quit(), b.quit()]);
    }
  });
});

describeIfAvailable('redis cluster (3 masters)', clusterUnavailable(), () => {
  let cluster: TestCluster | undefined;
  const urls = (): string[] => {
    if (!cluster) throw new Error('cluster not started');
    return cluster.urls;
  };
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  describeStoreContract('redis cluster', () => openComposed(urls()), { sessionsWithUsers: false });
  redisBehaviour(urls);

  it('reloads its scripts on a node that lost them (NOSCRIPT after a restart or failover)', async () => {
    const stores = await openComposed(urls());
    try {
      await stores.rateLimits.recordFailure('k', T0, 60_000);
      for (const port of cluster!.ports) {
        const node = new Redis({ port });
        await node.script('FLUSH');
        await node.quit();
      }
      expect(await stores.rateLimits.recordFailure('k', T0 + 1, 60_000)).toEqual({ count: 2, lastAt: T0 + 1 });
    } finally {
      await stores.close();
    }
  });
});

describe('redis: outages are recognised (isStoreUnavailable → 503), and URLs keep their secrets', () => {
  let port = 0;
  const clients: Redis[] = [];
  const client = (options: RedisOptions): Redis => {
    const redis = new Redis({ port, lazyConnect: true, retryStrategy: () => null, ...options });
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => {
    for (const redis of clients) redis.disconnect();
  });

  it('a closed port, without an offline queue', async () => {
    const redis = client({ maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const err = await redis.get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it('a closed port, with the offline queue and no retries', async () => {
    const redis = client({ maxRetriesPerRequest: 0 });
    const err = await redis.get('k').catch((e: unknown) => e);
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it('a client that was closed', async () => {
    const redis = client({ maxRetriesPerRequest: 0 });
    redis.disconnect();
    const err = await redis.get('k').catch((e: unknown) => e);
    expect((err as Error).message).toBe('Connection is closed.');
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it('the server replies that it cannot take commands now, but not other error replies', () => {
    for (const reply of [
      'CLUSTERDOWN The cluster is down',
      'LOADING Redis is loading the dataset in memory',
      "READONLY You can't write against a read only replica.",
    ]) {
      expect(isStoreUnavailable(new ReplyError(reply))).toBe(true);
    }
    for (const reply of [
      'ERR unknown command',
      'NOSCRIPT No matching script.',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    ]) {
      expect(isStoreUnavailable(new ReplyError(reply))).toBe(false);
    }
    // A message alone is not enough: only ioredis' plain Error carries these fixed texts.
    expect(isStoreUnavailable(new TypeError('Connection is closed.'))).toBe(false);
  });

  // A brace in the prefix would become every key's hash tag: one slot for the whole cluster.
  it('a key prefix with a hash tag or glob characters is refused', () => {
    const redis = client({});
    for (const prefix of ['app{1}:', 'app*:']) expect(() => createRedisRateLimitStore(redis, { prefix })).toThrow(RangeError);
  });

  it('openRedis never puts a URL password in its errors', async () => {
    for (const url of ['redis://user:s3cret@[bad', 'http://user:s3cret@example.test', 'redis://user:s3cret@example.test/x']) {
      const err = await openRedis(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(JSON.stringify({ message: (err as Error).message, ...(err as object) })).not.toContain('s3cret');
      expect(String((err as Error).cause ?? '')).not.toContain('s3cret');
    }
  });
});
