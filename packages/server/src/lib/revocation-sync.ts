import type { RevocationEvent } from '@tessera/stores';
import { connectRedis } from './redis-client.js';
import { type RedisLog, type RevocationBus, redisErrorCode, toWire, type WireEvent } from './revocation-bus.js';
import { type SyncDeps, syncRevocations } from './revoke.js';

/** Default of {@link RevocationSyncOptions.pollMs}. */
export const POLL_MS = 1000;
/** Default of {@link RevocationSyncOptions.republishAfterMs}. */
export const REPUBLISH_AFTER_MS = 2000;
/** Most events waiting to be seen on Redis; past it the oldest are let go (verifiers catch up by cursor). */
const PENDING_MAX = 10_000;

/** Options of {@link RevocationSync.start}. */
export interface RevocationSyncOptions {
  /** The store, this node's list, and the bus events go out on. */
  deps: SyncDeps & { bus: RevocationBus };
  /** `TESSERA_DATABASE_URL`: a PostgreSQL one is listened to (`LISTEN/NOTIFY`). */
  databaseUrl: string;
  /** The Redis channel every node publishes to, heard here as well. Default: none. */
  redis?: { url: string; channel: string } | undefined;
  log: RedisLog;
  /**
   * Hear other nodes at all (the listeners and the poll). Default true; without it only
   * {@link RevocationSync.catchUp} moves the cursor (tests that drive it themselves).
   */
  listen?: boolean;
  /** The fallback poll of the store, ms: what other nodes wrote is seen by then at the latest. Default {@link POLL_MS}. */
  pollMs?: number;
  /**
   * An event this node found in the store and that has not shown up on Redis this long after is
   * published there by this node (its writer may have died before publishing). Default
   * {@link REPUBLISH_AFTER_MS}.
   */
  republishAfterMs?: number;
}

/** An event from the Redis channel, in wire form; null for anything else. */
export function parseWireEvent(message: string): WireEvent | null {
  let e: unknown;
  try {
    e = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null) return null;
  const { cursor, sid, sub, not_before, until, at } = e as Record<string, unknown>;
  const id = (v: unknown) => v === null || (typeof v === 'string' && v.length > 0 && v.length <= 256);
  if (typeof cursor !== 'string' || !/^\d{1,20}$/.test(cursor)) return null;
  if (!id(sid) || !id(sub) || (sid === null && sub === null)) return null;
  if (!Number.isFinite(not_before) || !Number.isFinite(until) || (at !== undefined && !Number.isFinite(at))) return null;
  const rule = { sid: sid as string | null, sub: sub as string | null, not_before: not_before as number, until: until as number };
  return { cursor, ...rule, ...(at !== undefined ? { at: at as number } : {}) };
}

/**
 * Brings other nodes' revocations to this node: into its revocation list, and out to its SSE
 * subscribers. The store is the log; hearing of a new event only says when to read it:
 *
 * - PostgreSQL `LISTEN/NOTIFY`: each append notifies at commit, and the notification starts a
 *   catch-up from this node's cursor (also run each time the listener connects, so nothing
 *   appended while it was away is missed);
 * - Redis: the event its writer published is honoured and relayed at once, before the store is
 *   read. Nothing heard there is published again (each event would come back once per node);
 * - a poll every second, whatever the others do.
 *
 * Catch-ups run one at a time; one asked for while another runs follows it.
 */
export class RevocationSync {
  #o: RevocationSyncOptions;
  #cursor: string | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  /** Events relayed from the store, by cursor, waiting to be seen on Redis. */
  #pending = new Map<string, { wire: WireEvent; due: number }>();
  #hearingRedis = false;
  #stops: (() => Promise<void> | void)[] = [];
  /** Passed to `syncRevocations`: events found in the store go to SSE subscribers, not to Redis. */
  #fromStore: SyncDeps['bus'];

  private constructor(options: RevocationSyncOptions) {
    this.#o = options;
    const { bus } = options.deps;
    this.#fromStore = {
      remember: (e) => bus.remember(e),
      publish: (e: RevocationEvent) => {
        const wire = toWire(e);
        if (!bus.relay(wire) || !this.#hearingRedis) return;
        this.#pending.set(e.cursor, { wire, due: options.deps.clock() + (options.republishAfterMs ?? REPUBLISH_AFTER_MS) });
        if (this.#pending.size > PENDING_MAX) this.#pending.delete(this.#pending.keys().next().value as string);
      },
    };
  }

  /**
   * Reads every retained event into this node's list (published nowhere: they went out when
   * written), then starts hearing other nodes unless `listen` is false.
   */
  static async start(options: RevocationSyncOptions): Promise<RevocationSync> {
    const sync = new RevocationSync(options);
    sync.#cursor = await syncRevocations(options.deps, null, false);
    if (options.listen !== false) await sync.#listen();
    return sync;
  }

  /** The cursor of the last event read from the store. */
  get cursor(): string | null {
    return this.#cursor;
  }

  /** Reads what other nodes appended since the cursor; resolves once read (a failure is logged). */
  catchUp(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          this.#cursor = await syncRevocations({ ...this.#o.deps, bus: this.#fromStore }, this.#cursor);
        } catch (err) {
          this.#o.log.warn({ err }, 'revocation sync failed');
        }
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #listen(): Promise<void> {
    const poll = setInterval(() => {
      this.#republishOverdue();
      void this.catchUp();
    }, this.#o.pollMs ?? POLL_MS);
    poll.unref();
    this.#stops.push(() => clearInterval(poll));
    if (/^postgres(ql)?:\/\//i.test(this.#o.databaseUrl)) await this.#listenPostgres(this.#o.databaseUrl);
    if (this.#o.redis) this.#listenRedis(this.#o.redis.url, this.#o.redis.channel);
  }

  async #listenPostgres(connectionString: string): Promise<void> {
    const { listenForRevocations } = await import('@tessera/stores/postgres');
    let down = false;
    const listener = listenForRevocations({
      connectionString,
      // Our own appends notify us too: those behind the cursor need no read.
      onNotify: (cursor) => {
        if (this.#cursor === null || BigInt(cursor) > BigInt(this.#cursor)) void this.catchUp();
      },
      onListening: () => {
        if (down) this.#o.log.info({ postgres: 'listening' }, 'revocation LISTEN connection back');
        down = false;
        void this.catchUp();
      },
      onError: (err) => {
        if (down) return;
        down = true;
        const code = (err as { code?: unknown }).code;
        this.#o.log.warn(
          { postgres: 'down', err: typeof code === 'string' ? code : err.name },
          'revocation LISTEN connection lost; reconnecting (other nodes are polled meanwhile)',
        );
      },
    });
    this.#stops.push(() => listener.close());
  }

  #listenRedis(url: string, channel: string): void {
    // A connection of its own: one that subscribes can send nothing else. Its failures are the
    // publisher's too, and logged there.
    const subscriber = connectRedis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      this.#hearingRedis = true;
      // Messages published while unsubscribed are gone: what they said is in the store.
      void this.catchUp();
    });
    subscriber.on('close', () => {
      this.#hearingRedis = false;
      // Not heard on Redis while away from it says nothing about whether it was published there.
      this.#pending.clear();
    });
    subscriber.on('message', (_channel: string, message: string) => this.#heard(message));
    subscriber
      .subscribe(channel)
      .catch((err: unknown) => this.#o.log.warn({ err: redisErrorCode(err) }, 'revocation channel subscription failed'));
    this.#stops.push(async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  }

  /** An event a node published to Redis (this one included): honoured here, relayed to SSE subscribers, never published again. */
  #heard(message: string): void {
    const wire = parseWireEvent(message);
    if (!wire) return;
    this.#pending.delete(wire.cursor);
    this.#o.deps.revocations.add({ sid: wire.sid, sub: wire.sub, notBefore: wire.not_before, until: wire.until });
    this.#o.deps.bus.relay(wire);
  }

  #republishOverdue(): void {
    if (!this.#hearingRedis) return;
    const now = this.#o.deps.clock();
    for (const [cursor, { wire, due }] of this.#pending) {
      if (due > now) continue;
      this.#pending.delete(cursor);
      this.#o.deps.bus.publishRemote(wire);
    }
  }

  /** Stops hearing other nodes; waits for a catch-up in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of this.#stops.splice(0)) await stop();
    await this.#running;
  }
}
