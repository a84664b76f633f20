import type { WireEvent } from '@tessera/core';
import type { RevocationEvent } from '@tessera/stores';

export type { WireEvent };

/** The part of an ioredis client the bus uses. */
export interface RedisPublisher {
  publish(channel: string, message: string): Promise<unknown>;
  quit(): Promise<unknown>;
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
  #redis: RedisPublisher | null;
  #channel: string;
  #onError: (err: unknown) => void;

  constructor(options: { redis?: RedisPublisher | null; channel?: string; onError?: (err: unknown) => void } = {}) {
    this.#redis = options.redis ?? null;
    this.#channel = options.channel ?? 'tessera:revocations';
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Marks an event as already published (events a node finds in the store at start). Returns false if it was. */
  remember(event: RevocationEvent): boolean {
    if (this.#seen.has(event.cursor)) return false;
    this.#seen.add(event.cursor);
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value as string);
    return true;
  }

  /** Publishes an event unless it went out already. */
  publish(event: RevocationEvent, at?: number): void {
    if (!this.remember(event)) return;
    const wire = toWire(event, at);
    for (const listener of this.#listeners) listener(wire);
    // Redis being down loses nothing: verifiers catch up through GET /v1/revocations when they reconnect.
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
