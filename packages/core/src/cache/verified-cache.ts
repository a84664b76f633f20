import * as nodeCrypto from 'node:crypto';
import type { AccessTokenClaims, VerificationKey } from '../types.js';

/** A verified token as remembered: its claims and the key that verified it. */
export interface CachedToken {
  readonly claims: Readonly<AccessTokenClaims>;
  readonly key: VerificationKey;
}

// One-shot `crypto.hash` (Node ≥ 20.12) hashes a string as UTF-8 without building a Hash object:
// on a cache hit, that object is a third of the cost. Older Node falls back to createHash.
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

/**
 * The cache key of a token: SHA-256 of its exact string. Tokens themselves are never held.
 * UTF-8, not latin1: latin1 drops the high byte of every character above U+00FF, so a
 * malformed string could hash like a cached valid token and skip the syntax check.
 */
export function tokenCacheKey(token: string): string {
  return oneShotHash
    ? oneShotHash('sha256', token, 'base64url')
    : nodeCrypto.createHash('sha256').update(token, 'utf8').digest('base64url');
}

interface Node {
  hash: string;
  entry: CachedToken;
  prev: Node | null;
  next: Node | null;
}

/**
 * A bounded least-recently-used map from token hash to verified claims. Entries are
 * dropped when they expire (checked on read) or when the bound pushes them out. It
 * knows nothing of revocation: the verifier runs its revocation hook on every hit.
 *
 * Recency is a doubly-linked list beside the `Map`: a hit moves two pointers and never
 * writes to the `Map`. (Deleting and re-inserting a `Map` key on every hit, the usual
 * trick, leaves tombstones that make hits and evictions slow as the map fills.)
 */
export class VerifiedTokenCache {
  readonly max: number;
  #map = new Map<string, Node>();
  /** Most recently used. */
  #head: Node | null = null;
  /** Least recently used: evicted first. */
  #tail: Node | null = null;

  /** @param max Most entries held. */
  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  #unlink(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = null;
    node.next = null;
  }

  #pushFront(node: Node): void {
    node.next = this.#head;
    node.prev = null;
    if (this.#head) this.#head.prev = node;
    this.#head = node;
    this.#tail ??= node;
  }

  /** Looks `hash` up and marks it most recently used. */
  get(hash: string): CachedToken | undefined {
    const node = this.#map.get(hash);
    if (node === undefined) return undefined;
    if (node !== this.#head) {
      this.#unlink(node);
      this.#pushFront(node);
    }
    return node.entry;
  }

  set(hash: string, entry: CachedToken): void {
    const existing = this.#map.get(hash);
    if (existing !== undefined) {
      existing.entry = entry;
      this.get(hash);
      return;
    }
    if (this.#map.size >= this.max && this.#tail !== null) this.delete(this.#tail.hash);
    const node: Node = { hash, entry, prev: null, next: null };
    this.#map.set(hash, node);
    this.#pushFront(node);
  }

  delete(hash: string): void {
    const node = this.#map.get(hash);
    if (node === undefined) return;
    this.#map.delete(hash);
    this.#unlink(node);
  }

  clear(): void {
    this.#map.clear();
    this.#head = null;
    this.#tail = null;
  }
}
