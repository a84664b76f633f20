import {
  type Algorithm,
  exportPrivateJwk,
  generateSigningKey,
  importSigningJwk,
  KeySet,
  type ManagedKey,
  manageKey,
  type RotationPolicy,
  type SigningKey,
  type VerificationKey,
} from '@tessera/core';
import type { KeyStore, StoredKey } from '@tessera/stores';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerSecrets } from './secrets.js';

export interface KeyManagerOptions {
  store: KeyStore;
  secrets: ServerSecrets;
  alg: Algorithm;
  policy: Partial<RotationPolicy>;
  clock: () => number;
  log?: FastifyBaseLogger;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Keeps the issuer's keys: loads them from the store (decrypting private parts with the
 * KEK), creates the first `current` and `next` keys on a fresh store, and applies the
 * rotation policy on {@link tick}. All nodes coordinate through the store's atomic
 * insert/promote, then reload, so every node signs with the same key.
 */
export class KeyManager {
  #options: KeyManagerOptions;
  #set: KeySet;
  #fingerprint = '';

  private constructor(options: KeyManagerOptions) {
    this.#options = options;
    this.#set = new KeySet([], options.policy);
  }

  static async start(options: KeyManagerOptions): Promise<KeyManager> {
    const manager = new KeyManager(options);
    await manager.tick();
    return manager;
  }

  /** The current key set (replaced, not mutated, when keys change). */
  get keySet(): KeySet {
    return this.#set;
  }

  /** Resolver over whatever the current set is, for verifiers. */
  readonly resolver = { get: (kid: string): VerificationKey | undefined => this.#set.get(kid) };

  signingKey(): SigningKey {
    return this.#set.signingKey();
  }

  async #load(): Promise<void> {
    const stored = await this.#options.store.list();
    const fingerprint = stored
      .map((k) => `${k.kid}:${k.state}`)
      .sort()
      .join(',');
    if (fingerprint === this.#fingerprint) return;
    const keys: ManagedKey[] = [];
    for (const k of stored) keys.push(await this.#decode(k));
    this.#set = new KeySet(keys, this.#options.policy);
    this.#fingerprint = fingerprint;
  }

  async #decode(k: StoredKey): Promise<ManagedKey> {
    const jwk = JSON.parse(this.#options.secrets.open(k.privateJwk, k.kid));
    const key = await importSigningJwk(jwk, { alg: k.alg as Algorithm });
    return manageKey(key, k.state, {
      createdAt: seconds(k.createdAt),
      ...(k.activatedAt !== null ? { activatedAt: seconds(k.activatedAt) } : {}),
      ...(k.retiredAt !== null ? { retiredAt: seconds(k.retiredAt) } : {}),
    });
  }

  async #insert(state: 'next' | 'current', now: number): Promise<void> {
    const key = await generateSigningKey(this.#options.alg);
    const sealed = this.#options.secrets.seal(JSON.stringify(await exportPrivateJwk(key)), key.kid);
    const inserted = await this.#options.store.insert({
      kid: key.kid,
      alg: key.alg,
      state,
      privateJwk: sealed,
      createdAt: now,
      activatedAt: state === 'current' ? now : null,
      retiredAt: null,
    });
    if (inserted) this.#options.log?.info({ kid: key.kid, state }, 'signing key created');
  }

  /** Reloads keys and applies the rotation policy. Safe to run on every node at once. */
  async tick(): Promise<void> {
    const { store, clock } = this.#options;
    await this.#load();
    const now = clock();
    if (this.#set.list('current').length === 0 && this.#set.list('next').length === 0) await this.#insert('current', now);
    await this.#load();
    const due = this.#set.due(seconds(now));
    if (due.needsNext) await this.#insert('next', now);
    if (due.promote) {
      const next = this.#set.list('next')[0];
      if (next && (await store.promote(next.key.kid, now))) this.#options.log?.info({ kid: next.key.kid }, 'signing key rotated');
    }
    for (const kid of due.deletable) await store.deleteRetired(kid);
    await this.#load();
    // A promotion consumes the next key; publish a fresh one at once.
    if (this.#set.due(seconds(now)).needsNext) {
      await this.#insert('next', now);
      await this.#load();
    }
  }

  /** Rotates now, regardless of schedule: the `next` key starts signing and a new `next` is published. */
  async rotateNow(): Promise<void> {
    await this.#load();
    const now = this.#options.clock();
    if (this.#set.list('next').length === 0) await this.#insert('next', now);
    await this.#load();
    const next = this.#set.list('next')[0];
    if (next) await this.#options.store.promote(next.key.kid, now);
    await this.#load();
    await this.#insert('next', now);
    await this.#load();
  }
}
