import type { WireEvent } from '@tessera/core';
import type { RevocationEvent } from '@tessera/stores';

export type { WireEvent };

/** The part of an ioredis client the bus uses. */
export interface RedisPublisher {
  publish(channel: string, message: string): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** The connection events of an ioredis client that {@link watchRedis} listens to. */
export interface RedisConnection {
  on(event: 'error' | 'end' | 'ready', listener: (err?: unknown) => void): unknown;
}

/** Where {@link watchRedis} logs: pino's shape, so the app's logger fits as it is. */
export interface RedisLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/**
 * What may be logged of a Redis error: its code (or class name), never its message, which can
 * carry the URL and its password.
 */
export function redisErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
}

/**
 * Logs a Redis connection's state changes, one structured line each: `{ redis: 'down', err }`
 * when it goes down (or closes), `{ redis: 'up' }` when it is ready. Listening to 'error' also
 * keeps ioredis from printing every failed reconnect attempt, as it does when nobody listens.
 * Only the error code is logged, never a message that could carry the URL and its password.
 */
export function watchRedis(client: RedisConnection, log: RedisLog): void {
  let up: boolean | undefined;
  client.on('ready', () => {
    if (up === true) return;
    up = true;
    log.info({ redis: 'up' }, 'Redis connection ready');
  });
  client.on('error', (err) => {
    if (up === false) return;
    up = false;
    log.warn({ redis: 'down', err: redisErrorCode(err) }, 'Redis unreachable; verifiers catch up through the revocation feed');
  });
  client.on('end', () => {
    if (up === false) return;
    up = false;
    log.info({ redis: 'down', err: 'closed' }, 'Redis connection closed');
  });
}

export function toWire(e: RevocationEvent, at?: number): WireEvent {
  return { cursor: e.cursor, sid: e.sid, sub: e.sub, not_before: e.notBefore, until: e.until, ...(at !== undefined ? { at } : {}) };
}

const SEEN_MAX = 10_000;

/**
 * Fans revocation events out to this node's SSE subscribers and, when Redis is configured,
 * to every verifier on the Redis channel. Each event goes out once however it reached this
 * node (written here, or synced from the store after another node wrote it).
 */
export class RevocationBus {
  #listeners = new Set<(e: WireEvent) => void>();
  #seen = new Set<string>();
  /** Cursors relayed to SSE subscribers only: if this node turns out to be their writer, it still owes Redis a copy. */
  #relayedOnly = new Set<string>();
  #redis: RedisPublisher | null;
  #channel: string;
  #onError: (err: unknown) => void;

  constructor(options: { redis?: RedisPublisher | null; channel?: string; onError?: (err: unknown) => void } = {}) {
    this.#redis = options.redis ?? null;
    this.#channel = options.channel ?? 'tessera:revocations';
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Marks an event as already published (events a node finds in the store at start). Returns false if it was. */
  remember(event: Pick<RevocationEvent, 'cursor'>): boolean {
    if (this.#seen.has(event.cursor)) return false;
    this.#seen.add(event.cursor);
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value as string);
    return true;
  }

  /** Publishes an event this node wrote, unless it went out already. */
  publish(event: RevocationEvent, at?: number): void {
    const wire = toWire(event, at);
    if (!this.remember(event)) {
      // This node's own LISTEN may hand its event to `relay` before the writer gets here.
      if (this.#relayedOnly.delete(event.cursor)) this.publishRemote(wire);
      return;
    }
    for (const listener of this.#listeners) listener(wire);
    // Redis being down loses nothing: verifiers catch up through GET /v1/revocations when they reconnect.
    this.#redis?.publish(this.#channel, JSON.stringify(wire)).catch(this.#onError);
  }

  /**
   * Gives an event another node wrote to this node's SSE subscribers only, unless it went out
   * already: that node publishes it to Redis itself, and a copy from every node would multiply
   * each event by the number of nodes. Returns false if it went out already.
   */
  relay(wire: WireEvent): boolean {
    if (!this.remember(wire)) return false;
    this.#relayedOnly.add(wire.cursor);
    if (this.#relayedOnly.size > SEEN_MAX) this.#relayedOnly.delete(this.#relayedOnly.values().next().value as string);
    for (const listener of this.#listeners) listener(wire);
    return true;
  }

  /** Publishes an event to Redis only (one this node already relayed, that never showed up there). */
  publishRemote(wire: WireEvent): void {
    this.#redis?.publish(this.#channel, JSON.stringify(wire)).catch(this.#onError);
  }

  subscribe(listener: (e: WireEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#redis?.quit().catch(() => undefined);
  }
}
