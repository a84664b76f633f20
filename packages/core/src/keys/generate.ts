import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Algorithm, SigningKey } from '../types.js';
import { assertAlgorithm, MIN_RSA_BITS } from './check.js';
import { fromKeyObject, importSecret } from './import.js';

const generate = promisify(generateKeyPair);

/** Options for {@link generateSigningKey}. */
export interface GenerateKeyOptions {
  /** RSA modulus length in bits. Default 2048; smaller is refused. */
  modulusLength?: number;
}

/**
 * Generates a fresh signing key for `alg` (default ES256), `kid` set to its RFC 7638 thumbprint.
 *
 * @example
 * const key = await generateSigningKey('EdDSA');
 */
export async function generateSigningKey(alg: Algorithm = 'ES256', options: GenerateKeyOptions = {}): Promise<SigningKey> {
  assertAlgorithm(alg);
  switch (alg) {
    case 'HS256':
      return importSecret(randomBytes(32));
    case 'ES256':
      return fromKeyObject((await generate('ec', { namedCurve: 'P-256' })).privateKey, alg);
    case 'EdDSA':
      return fromKeyObject((await generate('ed25519')).privateKey, alg);
    case 'RS256':
    case 'PS256':
      return fromKeyObject((await generate('rsa', { modulusLength: Math.max(options.modulusLength ?? MIN_RSA_BITS, 0) })).privateKey, alg);
  }
}
