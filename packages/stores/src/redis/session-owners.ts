/** Default of {@link SessionOwners}' capacity: about a megabyte of ids. */
const DEFAULT_SESSION_OWNERS = 10_000;

/**
 * Which user each recently looked-up session belongs to, so that `getWithUser` can start reading
 * the profile at the same time as the session instead of after it. This is the one binding that
 * cannot go stale: a session's `userId` is written when it is created and never changed, and ids
 * are random, so an entry is true for as long as its session exists. It holds no authorisation
 * data (no roles, no revocation state): both of those are still read afresh on every lookup, and
 * the session read decides whether the profile read was the right one.
 *
 * Bounded: past `max` entries the oldest written is dropped, and its next lookup is simply two
 * reads in sequence again.
 */
export class SessionOwners {
  readonly #owners = new Map<string, string>();
  readonly #max: number;

  constructor(max: number = DEFAULT_SESSION_OWNERS) {
    if (!Number.isSafeInteger(max) || max < 0) throw new TypeError('max must be a non-negative integer');
    this.#max = max;
  }

  /** The user id last seen for session `id`, if any. */
  get(id: string): string | undefined {
    return this.#owners.get(id);
  }

  /** Records that session `id` belongs to `userId`, dropping the oldest entry past the bound. */
  set(id: string, userId: string): void {
    if (this.#max === 0) return;
    this.#owners.delete(id);
    this.#owners.set(id, userId);
    if (this.#owners.size > this.#max) this.#owners.delete(this.#owners.keys().next().value as string);
  }

  /** Forgets session `id` (it was not found). */
  delete(id: string): void {
    this.#owners.delete(id);
  }

  /** Entries held. */
  get size(): number {
    return this.#owners.size;
  }
}
