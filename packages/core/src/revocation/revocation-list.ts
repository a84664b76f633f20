import type { AccessTokenClaims } from '../types.js';

/**
 * A revocation event as the auth server publishes it and verifiers read it: SSE data, Redis
 * message, and each entry of `GET /v1/revocations`. Times in seconds except `at`.
 */
export interface WireEvent {
  /** Opaque, increasing in publication order. */
  cursor: string;
  sid: string | null;
  sub: string | null;
  not_before: number;
  until: number;
  /** Server time (ms) the event was written, when known: lets verifiers measure their lag. */
  at?: number;
}

/** A revocation rule: tokens of session `sid` (or of user `sub`) issued before `notBefore` are void until `until`. Seconds. */
export interface RevocationRule {
  sid?: string | null;
  sub?: string | null;
  /** Tokens whose `iat` is before this are revoked. */
  notBefore: number;
  /** After this, no token the rule covers can still be valid; the rule is forgotten. */
  until: number;
}

/**
 * The set of revocations a verifier honours, as `sid`/`sub` not-before rules. Lookups are two
 * map reads, cheap enough to run on every verification including cache hits; memory is bounded
 * by the revocations made within one access-token lifetime, because {@link prune} forgets a
 * rule once every token it covers has expired.
 *
 * @example
 * const revoked = new RevocationList();
 * const verifier = createVerifier({ ..., isRevoked: (claims) => revoked.isRevoked(claims) });
 * revoked.add({ sid, notBefore: now + 1, until: now + ttl + leeway });
 */
export class RevocationList {
  #sids = new Map<string, RevocationRule>();
  #subs = new Map<string, RevocationRule>();

  /** Adds a rule; of two rules for the same sid/sub the later `notBefore` wins. */
  add(rule: RevocationRule): void {
    if (rule.sid) this.#merge(this.#sids, rule.sid, rule);
    if (rule.sub) this.#merge(this.#subs, rule.sub, rule);
  }

  #merge(map: Map<string, RevocationRule>, id: string, rule: RevocationRule): void {
    const prev = map.get(id);
    if (!prev) {
      map.set(id, rule);
      return;
    }
    map.set(id, { ...rule, notBefore: Math.max(prev.notBefore, rule.notBefore), until: Math.max(prev.until, rule.until) });
  }

  /** True when the token's session or subject was revoked after it was issued. A token without `iat` counts as issued at 0. */
  isRevoked(claims: Readonly<AccessTokenClaims>): boolean {
    const iat = claims.iat ?? 0;
    if (claims.sid !== undefined) {
      const rule = this.#sids.get(claims.sid);
      if (rule !== undefined && iat < rule.notBefore) return true;
    }
    const rule = this.#subs.get(claims.sub);
    return rule !== undefined && iat < rule.notBefore;
  }

  /** Forgets rules whose `until` has passed. Returns how many were dropped. */
  prune(nowSeconds: number): number {
    let dropped = 0;
    for (const map of [this.#sids, this.#subs]) {
      for (const [id, rule] of map) {
        if (rule.until < nowSeconds) {
          map.delete(id);
          dropped++;
        }
      }
    }
    return dropped;
  }

  /** Every rule held, one per session and one per subject (for persisting them). */
  rules(): RevocationRule[] {
    return [
      ...[...this.#sids].map(([sid, r]) => ({ sid, sub: null, notBefore: r.notBefore, until: r.until })),
      ...[...this.#subs].map(([sub, r]) => ({ sid: null, sub, notBefore: r.notBefore, until: r.until })),
    ];
  }

  /** Rules held. */
  get size(): number {
    return this.#sids.size + this.#subs.size;
  }
}
