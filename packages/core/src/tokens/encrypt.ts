import { Buffer } from 'node:buffer';
import { createSecretKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { ErrorCodes, KeyError, tokenError } from '../errors.js';

/** Key-management algorithms for nested tokens: ECDH-ES with AES key wrap, or a shared content key. */
export type EncryptionAlgorithm = 'ECDH-ES+A256KW' | 'dir';

/** The one content-encryption algorithm used. */
export const CONTENT_ENCRYPTION = 'A256GCM';

/** Encrypts to a recipient: its P-256 public key for `ECDH-ES+A256KW`, or the shared 256-bit secret for `dir`. */
export interface EncryptionKey {
  alg: EncryptionAlgorithm;
  key: KeyObject;
}

/** Decrypts as a recipient: its P-256 private key for `ECDH-ES+A256KW`, or the shared 256-bit secret for `dir`. */
export interface DecryptionKey {
  alg: EncryptionAlgorithm;
  key: KeyObject;
}

/** Checks a key fits its key-management algorithm, so a misconfiguration fails at start, not per request. */
export function assertEncryptionKey(k: EncryptionKey | DecryptionKey, role: 'encrypt' | 'decrypt'): void {
  const bad = (why: string) => new KeyError(ErrorCodes.KEY_INVALID, `${k.alg} ${role} key: ${why}`);
  if (k.alg === 'dir') {
    if (k.key.type !== 'secret' || k.key.symmetricKeySize !== 32) throw bad('a 256-bit secret is required');
    return;
  }
  if (k.alg !== 'ECDH-ES+A256KW') throw bad('unsupported algorithm');
  if (k.key.asymmetricKeyType !== 'ec' || k.key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw bad('a P-256 key is required');
  if (role === 'decrypt' && k.key.type !== 'private') throw bad('a private key is required');
}

/** Generates a matching encryption/decryption key pair for `alg`. */
export function generateEncryptionKeys(alg: EncryptionAlgorithm): { encrypt: EncryptionKey; decrypt: DecryptionKey } {
  if (alg === 'dir') {
    const key = createSecretKey(randomBytes(32));
    return { encrypt: { alg, key }, decrypt: { alg, key } };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { encrypt: { alg, key: publicKey }, decrypt: { alg, key: privateKey } };
}

/**
 * Wraps a signed token in a JWE (nested JWT, sign then encrypt): header
 * `{ alg, enc: "A256GCM", cty: "JWT" }`. Claims stay hidden from anyone without the key.
 */
export async function encryptToken(jws: string, recipient: EncryptionKey): Promise<string> {
  assertEncryptionKey(recipient, 'encrypt');
  return new CompactEncrypt(Buffer.from(jws, 'latin1'))
    .setProtectedHeader({ alg: recipient.alg, enc: CONTENT_ENCRYPTION, cty: 'JWT' })
    .encrypt(recipient.key);
}

/**
 * Opens a nested token and returns the inner JWS, which the caller must still verify.
 * Only the configured key-management algorithm and A256GCM are accepted, and `cty` must be `JWT`.
 */
export async function decryptToken(jwe: string, recipient: DecryptionKey): Promise<string> {
  let result: Awaited<ReturnType<typeof compactDecrypt>>;
  try {
    result = await compactDecrypt(jwe, recipient.key, {
      keyManagementAlgorithms: [recipient.alg],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
    });
  } catch {
    throw tokenError(ErrorCodes.TOKEN_DECRYPT, 'token could not be decrypted');
  }
  if (typeof result.protectedHeader.cty !== 'string' || result.protectedHeader.cty.toUpperCase() !== 'JWT') {
    throw tokenError(ErrorCodes.TOKEN_DECRYPT, 'encrypted token does not contain a JWT');
  }
  return Buffer.from(result.plaintext).toString('latin1');
}
