import type { ResolvedFeedOptions } from './options.js';
import type { LiveSource, SourceHooks } from './source.js';

/** A subset of ioredis the feed uses (structural, so ioredis stays an optional peer). */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready' | 'end' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  disconnect(): void;
}

/** Longest {@link RedisSource.start} waits for the first subscription. */
const FIRST_SUBSCRIBE_WAIT_MS = 2_000;

/** What the Redis source needs of the feed's options. */
export type RedisSourceOptions = Pick<ResolvedFeedOptions, 'channel'> & { redis: RedisSubscriber | string };

/**
 * Live events from Redis pub/sub. Given a URL, it loads `ioredis` only now, so importing
 * `@tessera/verify` loads no driver and a service on SSE needs none installed. Reconnecting is
 * ioredis's own; its `ready`, `close` and `end` tell the feed when Redis comes and goes.
 */
export class RedisSource implements LiveSource {
  #o: RedisSourceOptions;
  #hooks: SourceHooks;
  #client: RedisSubscriber | null = null;
  #closed = false;

  constructor(options: RedisSourceOptions, hooks: SourceHooks) {
    this.#o = options;
    this.#hooks = hooks;
  }

  /** ioredis reconnects inside one client: the feed sees no reconnect of its own. */
  get reconnects(): number {
    return 0;
  }

  /** Resolves once subscribed, or after 2 s without it (ioredis keeps trying, and the feed goes up when it lands). */
  async start(): Promise<void> {
    let client = this.#o.redis;
    if (typeof client === 'string') {
      const { Redis } = (await import('ioredis')) as unknown as { Redis: new (url: string, o: object) => RedisSubscriber };
      client = new Redis(client, { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true });
      // Closed while ioredis was loading: the client must not outlive the feed.
      if (this.#closed) {
        client.disconnect();
        return;
      }
    }
    this.#client = client;
    client.on('message', (channel, message) => {
      if (channel === this.#o.channel) this.#hooks.received(message);
    });
    client.on('ready', () => this.#hooks.up());
    client.on('close', () => this.#hooks.down());
    client.on('end', () => this.#hooks.down());
    client.on('error', () => undefined);
    // Redis down at boot must not hold start() (and the service's startup) forever: wait a bounded
    // time for the first subscription, then go on.
    const subscribed = client.subscribe(this.#o.channel).then(
      () => this.#hooks.up(),
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FIRST_SUBSCRIBE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([subscribed, waited]);
    clearTimeout(timer);
  }

  close(): void {
    this.#closed = true;
    this.#client?.disconnect();
  }
}
