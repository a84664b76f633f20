import { createHash } from 'node:crypto';
import type { AccessTokenClaims, VerificationKey } from '../types.js';

/** A verified token as remembered: its claims and the key that verified it. */
export interface CachedToken {
  readonly claims: Readonly<AccessTokenClaims>;
  readonly key: VerificationKey;
}

/** The cache key of a token: SHA-256 of its exact string. Tokens themselves are never held. */
export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token, 'latin1').digest('base64url');
}

/**
 * A bounded least-recently-used map from token hash to verified claims. Entries are
 * dropped when they expire (checked on read) or when the bound pushes them out. It
 * knows nothing of revocation: the verifier runs its revocation hook on every hit.
 */
export class VerifiedTokenCache {
  readonly max: number;
  #map = new Map<string, CachedToken>();

  /** @param max Most entries held. */
  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Looks `hash` up and marks it most recently used. */
  get(hash: string): CachedToken | undefined {
    const entry = this.#map.get(hash);
    if (entry !== undefined) {
      this.#map.delete(hash);
      this.#map.set(hash, entry);
    }
    return entry;
  }

  set(hash: string, entry: CachedToken): void {
    if (this.#map.size >= this.max) {
      // Map iteration order is insertion order, and get() re-inserts: the first key is the least recently used.
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(hash, entry);
  }

  delete(hash: string): void {
    this.#map.delete(hash);
  }

  clear(): void {
    this.#map.clear();
  }
}
