import type { JWK } from 'jose';
import { AuthError } from '../errors.js';
import { ALGORITHMS, type Algorithm, type Jwks, type VerificationKey } from '../types.js';
import { importVerificationJwk } from './import.js';

/** Options for {@link importJwks}. */
export interface ImportJwksOptions {
  /** Algorithms to accept. Default: every asymmetric algorithm Tessera supports (HS256 never comes from a JWKS). */
  algorithms?: readonly Algorithm[];
}

const ASYMMETRIC: readonly Algorithm[] = ALGORITHMS.filter((a) => a !== 'HS256');

/**
 * Turns a JWKS document into verification keys, each pinned to its `alg`. Keys without
 * `alg`, with an algorithm outside `algorithms`, without `kid`, or invalid are skipped, not
 * trusted: a JWKS never widens what a verifier accepts.
 */
export async function importJwks(jwks: unknown, options: ImportJwksOptions = {}): Promise<Map<string, VerificationKey>> {
  const allowed = (options.algorithms ?? ASYMMETRIC).filter((a) => a !== 'HS256');
  const out = new Map<string, VerificationKey>();
  const keys = (jwks as Partial<Jwks> | null)?.keys;
  if (!Array.isArray(keys)) return out;
  for (const jwk of keys as JWK[]) {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || jwk.kid === '') continue;
    if (typeof jwk.alg !== 'string' || !(allowed as readonly string[]).includes(jwk.alg)) continue;
    if (out.has(jwk.kid)) continue;
    try {
      out.set(jwk.kid, await importVerificationJwk(jwk));
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
    }
  }
  return out;
}
