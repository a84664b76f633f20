import type { Buffer } from 'node:buffer';
import { constants, createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import type { Algorithm, SigningKey, VerificationKey } from '../types.js';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** Signature length each algorithm must produce, when fixed. */
const FIXED_LENGTH: Partial<Record<Algorithm, number>> = { ES256: 64, EdDSA: 64, HS256: 32 };

/** Signs `input` (the ASCII signing input) with `key` under its pinned algorithm. */
export function signBytes(input: Buffer, key: SigningKey): Buffer {
  switch (key.alg) {
    case 'ES256':
      return sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, input, key.privateKey);
    case 'RS256':
      return sign('sha256', input, key.privateKey);
    case 'PS256':
      return sign('sha256', input, { key: key.privateKey, ...PSS });
    case 'HS256':
      return createHmac('sha256', key.privateKey).update(input).digest();
  }
}

/** An ES256 signature whose r or s is zero: the "psychic signature" CVE-2022-21449 forged. */
function hasZeroHalf(sig: Buffer): boolean {
  let r = 0;
  let s = 0;
  for (let i = 0; i < 32; i++) {
    r |= sig[i] as number;
    s |= sig[i + 32] as number;
  }
  return r === 0 || s === 0;
}

/** Length of an RSA signature under `key`: the modulus rounded up to whole bytes, so 2052-bit keys sign 257 bytes (RFC 8017 §8.2.2). */
function rsaSignatureBytes(key: VerificationKey): number {
  return Math.ceil((key.key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

/**
 * Verifies `sig` over `input` with `key` under its pinned algorithm. The caller has
 * already checked that the token's `alg` equals `key.alg`. Signature lengths are exact:
 * ES256 takes only the 64-byte r‖s form (never DER), HMAC is compared in constant time.
 */
export function verifyBytes(input: Buffer, sig: Buffer, key: VerificationKey): boolean {
  const fixed = FIXED_LENGTH[key.alg];
  if (fixed !== undefined && sig.length !== fixed) return false;
  switch (key.alg) {
    case 'ES256':
      if (hasZeroHalf(sig)) return false;
      return verify('sha256', input, { key: key.key, dsaEncoding: 'ieee-p1363' }, sig);
    case 'EdDSA':
      return verify(null, input, key.key, sig);
    case 'RS256':
      if (sig.length !== rsaSignatureBytes(key)) return false;
      return verify('sha256', input, key.key, sig);
    case 'PS256':
      if (sig.length !== rsaSignatureBytes(key)) return false;
      return verify('sha256', input, { key: key.key, ...PSS }, sig);
    case 'HS256':
      return timingSafeEqual(createHmac('sha256', key.key).update(input).digest(), sig);
  }
}
