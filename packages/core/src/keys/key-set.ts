import type { JWK } from 'jose';
import { ErrorCodes, KeyError, OptionError } from '../errors.js';
import type { Jwks, KeyResolver, KeyState, PublicJwk, SigningKey, VerificationKey } from '../types.js';
import { exportPublicJwk } from './import.js';

/** A signing key with its lifecycle. Times are seconds since the epoch. */
export interface ManagedKey {
  readonly key: SigningKey;
  readonly state: KeyState;
  readonly createdAt: number;
  /** When it became `current`. */
  readonly activatedAt?: number;
  /** When it stopped signing. */
  readonly retiredAt?: number;
  /** Public JWK as published (absent for HS256, which is never published). */
  readonly publicJwk?: PublicJwk;
}

/** When keys rotate and when retired keys may go. All durations in seconds. */
export interface RotationPolicy {
  /** How long the `current` key signs before `next` takes over. Default 30 days. */
  rotateAfter: number;
  /**
   * How long a `next` key is published before it may sign, so that every verifier's
   * JWKS cache holds it before the first token it signs arrives. Default 1 hour;
   * keep it at least the JWKS `max-age`.
   */
  publishAhead: number;
  /** Longest lifetime of any token a key signs (the access-token TTL). Default 600. */
  maxTokenTtl: number;
  /** Clock leeway verifiers allow on `exp`. Default 30. */
  leeway: number;
}

/** Defaults for {@link RotationPolicy}. */
export const DEFAULT_ROTATION_POLICY: RotationPolicy = {
  rotateAfter: 30 * 24 * 3600,
  publishAhead: 3600,
  maxTokenTtl: 600,
  leeway: 30,
};

/** What {@link KeySet.due} finds to do at a moment. */
export interface RotationDue {
  /** No `next` key exists: generate one and add it with {@link KeySet.addNext}. */
  needsNext: boolean;
  /** The `next` key should become `current` now ({@link KeySet.promote}). */
  promote: boolean;
  /** Retired keys whose every token has expired; safe to delete. */
  deletable: string[];
}

/** Wraps a signing key as a {@link ManagedKey}, computing its public JWK once. */
export async function manageKey(
  key: SigningKey,
  state: KeyState,
  times: { createdAt: number; activatedAt?: number; retiredAt?: number },
): Promise<ManagedKey> {
  const publicJwk = key.alg === 'HS256' ? undefined : ((await exportPublicJwk(key)) as JWK as PublicJwk);
  return { key, state, ...times, ...(publicJwk ? { publicJwk } : {}) };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new OptionError(`${name} must be a non-negative number of seconds`);
  return value;
}

/**
 * The keys of one issuer and their rotation policy. It resolves every published key
 * (`next`, `current`, `retired`) for verification, hands out the one `current` key for
 * signing, and says when to rotate and what to delete. It holds no clock and no store:
 * callers pass `now` and persist the changes, so several auth nodes can agree through
 * their shared store.
 *
 * @example
 * const set = new KeySet([await manageKey(await generateSigningKey(), 'current', { createdAt: now, activatedAt: now })]);
 * const due = set.due(now);
 * if (due.needsNext) set.addNext(await manageKey(await generateSigningKey(), 'next', { createdAt: now }));
 */
export class KeySet implements KeyResolver {
  readonly policy: RotationPolicy;
  #keys = new Map<string, ManagedKey>();
  #jwks: Jwks | undefined;

  constructor(keys: Iterable<ManagedKey> = [], policy: Partial<RotationPolicy> = {}) {
    const merged = { ...DEFAULT_ROTATION_POLICY, ...policy };
    for (const [name, value] of Object.entries(merged)) positive(name, value);
    this.policy = merged;
    for (const k of keys) this.#put(k);
    if (this.list('current').length > 1) throw new KeyError(ErrorCodes.KEY_INVALID, 'more than one key is current');
  }

  #put(k: ManagedKey): void {
    this.#keys.set(k.key.kid, k);
    this.#jwks = undefined;
  }

  /** The verification key for `kid` if it is published (any state). */
  get(kid: string): VerificationKey | undefined {
    return this.#keys.get(kid)?.key;
  }

  /** Keys, optionally only those in one state, oldest first. */
  list(state?: KeyState): ManagedKey[] {
    const all = [...this.#keys.values()].sort((a, b) => a.createdAt - b.createdAt);
    return state ? all.filter((k) => k.state === state) : all;
  }

  /** The key that signs now. Throws `ERR_KEY_UNAVAILABLE` when there is none. */
  signingKey(): SigningKey {
    const current = this.list('current')[0];
    if (!current) throw new KeyError(ErrorCodes.KEY_UNAVAILABLE, 'no current signing key');
    return current.key;
  }

  /** The JWKS to publish: public parts of every `next`, `current` and `retired` key (never HS256 secrets). */
  jwks(): Jwks {
    this.#jwks ??= { keys: this.list().flatMap((k) => (k.publicJwk ? [k.publicJwk] : [])) };
    return this.#jwks;
  }

  /** What the policy says is due at `now`. */
  due(now: number): RotationDue {
    const { rotateAfter, publishAhead, maxTokenTtl, leeway } = this.policy;
    const current = this.list('current')[0];
    const next = this.list('next')[0];
    const currentAged = !current || now - (current.activatedAt ?? current.createdAt) >= rotateAfter;
    // A next key may sign at once when nothing signs yet; otherwise only once verifiers have had time to fetch it.
    const nextReady = next !== undefined && (!current || now - next.createdAt >= publishAhead);
    return {
      needsNext: next === undefined,
      promote: currentAged && nextReady,
      deletable: this.list('retired')
        .filter((k) => (k.retiredAt ?? k.createdAt) + maxTokenTtl + leeway <= now)
        .map((k) => k.key.kid),
    };
  }

  /** Adds a key in state `next`. Throws if a `next` key already exists. */
  addNext(key: ManagedKey): void {
    if (this.list('next').length > 0) throw new KeyError(ErrorCodes.KEY_INVALID, 'a next key already exists');
    this.#put({ ...key, state: 'next' });
  }

  /**
   * Makes the `next` key `current` and retires the previous `current` at `now`.
   * Returns the keys that changed, for the caller to persist.
   */
  promote(now: number): ManagedKey[] {
    const next = this.list('next')[0];
    if (!next) throw new KeyError(ErrorCodes.KEY_UNAVAILABLE, 'no next key to promote');
    const changed: ManagedKey[] = [];
    for (const current of this.list('current')) {
      const retired: ManagedKey = { ...current, state: 'retired', retiredAt: now };
      this.#put(retired);
      changed.push(retired);
    }
    const promoted: ManagedKey = { ...next, state: 'current', activatedAt: now };
    this.#put(promoted);
    changed.push(promoted);
    return changed;
  }

  /** Deletes a key. Refuses the `current` key. */
  remove(kid: string): boolean {
    const k = this.#keys.get(kid);
    if (!k) return false;
    if (k.state === 'current') throw new KeyError(ErrorCodes.KEY_INVALID, 'the current key cannot be deleted');
    this.#keys.delete(kid);
    this.#jwks = undefined;
    return true;
  }
}
