import {
  ALGORITHMS,
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
import { KekMismatchError } from './kek.js';
import type { ServerSecrets } from './secrets.js';

/** Where key lifecycle events are logged: pino's shape, so the app's logger fits as it is. */
export interface KeyLog {
  info(details: Record<string, unknown>, message: string): void;
}

/**
 * Seconds verifiers may cache the JWKS (its `Cache-Control: max-age`). A key published this
 * long ago is in every verifier's cache, or fetched on first sight of its `kid`.
 */
export const JWKS_MAX_AGE = 300;

/** Options of {@link KeyManager.start}. */
export interface KeyManagerOptions {
  store: KeyStore;
  secrets: ServerSecrets;
  /** The configured algorithm (`TESSERA_SIGNING_ALG`): new keys use it, and a current key of another one is replaced. */
  alg: Algorithm;
  policy: Partial<RotationPolicy>;
  clock: () => number;
  /**
   * Seconds a key of the configured algorithm is published as `next` before it replaces a
   * current key of another algorithm. Default {@link JWKS_MAX_AGE}.
   */
  switchAfter?: number;
  /** Replace a current key of another algorithm at once (`TESSERA_ROTATE_NOW`). Default false. */
  switchNow?: boolean;
  /** Default: no logging. */
  log?: KeyLog;
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

  /**
   * Algorithms of the keys that sign now or will sign next, the current key's first: what
   * discovery may announce. During an algorithm change that is both the old and the new one.
   */
  signingAlgorithms(): Algorithm[] {
    const algs = [...this.#set.list('current'), ...this.#set.list('next')].map((k) => k.key.alg);
    return [...new Set(algs)];
  }

  /**
   * Algorithms this issuer's own verifier accepts: every asymmetric one, and HS256 only where an
   * HS256 secret is configured or held. Safe to be broad because each key is pinned to its own
   * algorithm (a token whose `alg` differs from its key's is refused, CVE-2015-9235), and needed
   * because the algorithm may change while the process runs (another node, same store).
   */
  acceptedAlgorithms(): Algorithm[] {
    const hmac = this.#options.alg === 'HS256' || this.#set.list().some((k) => k.key.alg === 'HS256');
    return ALGORITHMS.filter((a) => a !== 'HS256' || hmac);
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
    let opened: string;
    try {
      opened = this.#options.secrets.open(k.privateJwk, k.kid);
    } catch {
      // AES-GCM's own words ("unable to authenticate data") name neither the key nor the fix.
      throw new KekMismatchError(k.kid);
    }
    const jwk = JSON.parse(opened);
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
    await this.#switchAlgorithm(now);
  }

  /**
   * `TESSERA_SIGNING_ALG` changed on existing keys: a key of the configured algorithm is
   * published as `next` and becomes `current` once it has been in the JWKS for `switchAfter`
   * (at once with `switchNow`). The store holds one `next` key and cannot withdraw it, so a
   * `next` of the old algorithm signs first (once published as long), making room. Tokens and
   * discovery agree throughout: discovery lists the current and next keys' algorithms.
   */
  async #switchAlgorithm(now: number): Promise<void> {
    const { alg, store } = this.#options;
    const current = this.#set.list('current')[0];
    if (!current || current.key.alg === alg) return;
    const delay = this.#options.switchNow ? 0 : (this.#options.switchAfter ?? JWKS_MAX_AGE);
    const published = (k: ManagedKey) => seconds(now) - k.createdAt >= delay;
    let next = this.#set.list('next')[0];
    if (next && next.key.alg !== alg) {
      if (!published(next)) return;
      if (await store.promote(next.key.kid, now)) this.#options.log?.info({ kid: next.key.kid }, 'signing key rotated');
      await this.#load();
      next = this.#set.list('next')[0];
    }
    if (!next) {
      await this.#insert('next', now);
      await this.#load();
      next = this.#set.list('next')[0];
    }
    if (!next || next.key.alg !== alg || !published(next)) return;
    if (await store.promote(next.key.kid, now)) {
      this.#options.log?.info({ kid: next.key.kid, alg, previous: current.key.alg }, 'signing algorithm switched');
    }
    await this.#load();
    if (this.#set.list('next').length === 0) {
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
