import { describe, expect, it, vi } from 'vitest';
import { RevocationFeed } from '../index.js';
import { manualClock } from '../test-support.js';

// A stand-in for ioredis, counting how often the package is loaded: it must be loaded only by a
// feed given a redis:// URL, never by importing @tessera/verify (ioredis is an optional peer).
const redis = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => void;
  class FakeRedis {
    readonly listeners = new Map<string, Listener[]>();
    readonly subscribed: string[] = [];
    disconnected = false;
    constructor(
      readonly url: string,
      readonly options: object,
    ) {
      state.clients.push(this);
    }
    on(event: string, listener: Listener): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
      return this;
    }
    emit(event: string, ...args: unknown[]): void {
      for (const l of this.listeners.get(event) ?? []) l(...args);
    }
    async subscribe(channel: string): Promise<number> {
      this.subscribed.push(channel);
      return 1;
    }
    disconnect(): void {
      this.disconnected = true;
    }
  }
  const state = { loads: 0, clients: [] as FakeRedis[], FakeRedis };
  return state;
});

vi.mock('ioredis', () => {
  redis.loads++;
  return { Redis: redis.FakeRedis };
});

/** A catch-up endpoint with nothing to catch up. */
const noEvents: typeof fetch = async () => Response.json({ events: [], cursor: '0' });
const offline: typeof fetch = async () => {
  throw new Error('offline');
};

describe('the Redis source', () => {
  // First in this file: nothing has loaded ioredis yet.
  it('importing @tessera/verify and running an SSE feed loads no Redis driver', async () => {
    const feed = new RevocationFeed({ issuer: 'http://auth.test', fetch: offline, minRetryMs: 1_000 });
    await feed.start();
    feed.close();
    expect(redis.loads).toBe(0);
  });

  it('with a redis:// URL: loads ioredis then, subscribes, applies messages of its channel only, and follows the connection', async () => {
    const clock = manualClock();
    const feed = new RevocationFeed({
      issuer: 'http://auth.test',
      source: 'redis',
      redis: 'redis://cache.test:6379',
      channel: 'ch',
      fetch: noEvents,
      clock,
    });
    await feed.start();
    try {
      expect(redis.loads).toBe(1);
      const client = redis.clients.at(-1) as InstanceType<typeof redis.FakeRedis>;
      expect(client.url).toBe('redis://cache.test:6379');
      expect(client.subscribed).toEqual(['ch']);
      expect(feed.status()).toMatchObject({ source: 'redis', connected: true, reconnects: 0 });

      const event = { cursor: '3', sid: 'gone', sub: null, not_before: 1, until: 9e9 };
      client.emit('message', 'ch:other', JSON.stringify(event));
      client.emit('message', 'ch', 'not json');
      expect(feed.status()).toMatchObject({ events: 0, rules: 0 });
      client.emit('message', 'ch', JSON.stringify(event));
      expect(feed.status()).toMatchObject({ events: 1, rules: 1, cursor: '3' });

      clock.advance(5);
      client.emit('close');
      expect(feed.status()).toMatchObject({ connected: false, downSince: clock.now });
      client.emit('ready');
      expect(feed.status()).toMatchObject({ connected: true, downSince: null });
    } finally {
      feed.close();
    }
    expect((redis.clients.at(-1) as InstanceType<typeof redis.FakeRedis>).disconnected).toBe(true);
  });

  it('a feed closed while ioredis loads leaves no client behind', async () => {
    const feed = new RevocationFeed({ issuer: 'http://auth.test', source: 'redis', redis: 'redis://cache.test:6379', fetch: noEvents });
    const before = redis.clients.length;
    const started = feed.start();
    feed.close();
    await started;
    const client = redis.clients.at(-1) as InstanceType<typeof redis.FakeRedis>;
    expect(redis.clients.length).toBe(before + 1);
    expect(client.disconnected).toBe(true);
    expect(client.subscribed).toEqual([]);
  });
});
