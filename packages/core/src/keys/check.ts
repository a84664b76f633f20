import type { KeyObject } from 'node:crypto';
import { ErrorCodes, KeyError } from '../errors.js';
import { ALGORITHMS, type Algorithm } from '../types.js';

/** Shortest HMAC secret accepted for HS256: 256 bits (RFC 7518 §3.2). */
export const MIN_HMAC_BYTES = 32;
/** Smallest RSA modulus accepted (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

/** Throws unless `alg` is one Tessera supports. */
export function assertAlgorithm(alg: unknown): asserts alg is Algorithm {
  if (typeof alg !== 'string' || !(ALGORITHMS as readonly string[]).includes(alg)) {
    throw new KeyError(ErrorCodes.KEY_INVALID, `unsupported algorithm; expected one of ${ALGORITHMS.join(', ')}`);
  }
}

/**
 * Throws unless `key` is of the type `alg` needs: a P-256 key for ES256, Ed25519 for
 * EdDSA, RSA of at least 2048 bits for RS256/PS256, a secret of at least 256 bits for HS256.
 * This is what pins an algorithm to a key.
 */
export function assertKeyFitsAlgorithm(key: KeyObject, alg: Algorithm): void {
  const invalid = (why: string) => new KeyError(ErrorCodes.KEY_INVALID, `key does not fit ${alg}: ${why}`);
  if (alg === 'HS256') {
    if (key.type !== 'secret') throw invalid('HS256 needs a secret key');
    if ((key.symmetricKeySize ?? 0) < MIN_HMAC_BYTES) {
      throw new KeyError(ErrorCodes.KEY_WEAK, `HS256 secret must be at least ${MIN_HMAC_BYTES} bytes`);
    }
    return;
  }
  if (key.type === 'secret') throw invalid('an asymmetric key is required');
  const type = key.asymmetricKeyType;
  switch (alg) {
    case 'ES256':
      if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw invalid('a P-256 key is required');
      return;
    case 'EdDSA':
      if (type !== 'ed25519') throw invalid('an Ed25519 key is required');
      return;
    case 'RS256':
    case 'PS256':
      if (type !== 'rsa' && !(alg === 'PS256' && type === 'rsa-pss')) throw invalid('an RSA key is required');
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
        throw new KeyError(ErrorCodes.KEY_WEAK, `RSA modulus must be at least ${MIN_RSA_BITS} bits`);
      }
      return;
  }
}
