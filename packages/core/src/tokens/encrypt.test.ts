import { Buffer } from 'node:buffer';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertEncryptionKey,
  type DecryptionKey,
  decryptToken,
  type EncryptionAlgorithm,
  ErrorCodes,
  encryptToken,
  generateEncryptionKeys,
  generateSigningKey,
  type SigningKey,
} from '../index.js';
import { expectCode, expectCodeAsync, expectRefused, expectRefusedAsync, NOW, token, verifierFor } from '../test-fixtures.js';

let key: SigningKey;
let attacker: SigningKey;

beforeAll(async () => {
  [key, attacker] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256')]);
});

const ALGS: EncryptionAlgorithm[] = ['ECDH-ES+A256KW', 'dir'];

describe('nested tokens (sign, then encrypt)', () => {
  for (const alg of ALGS) {
    it(`round-trips ${alg} through verifyAsync, hiding the claims`, async () => {
      const { encrypt, decrypt } = generateEncryptionKeys(alg);
      const jws = token(key, { email: 'secret@example.com' });
      const jwe = await encryptToken(jws, encrypt);
      expect(jwe.split('.')).toHaveLength(5);
      expect(jwe).not.toContain(jws.split('.')[1]);
      expect(JSON.parse(Buffer.from(jwe.split('.')[0] as string, 'base64url').toString())).toMatchObject({
        alg,
        enc: 'A256GCM',
        cty: 'JWT',
      });
      expect(await decryptToken(jwe, decrypt)).toBe(jws);
      const verifier = verifierFor([key], { decryption: decrypt });
      expect((await verifier.verifyAsync(jwe)).email).toBe('secret@example.com');
      // Plain JWS still passes through verifyAsync.
      expect((await verifier.verifyAsync(jws)).sub).toBe('user-1');
    });
  }

  it('caches a nested token and still runs the revocation hook on the hit', async () => {
    const { encrypt, decrypt } = generateEncryptionKeys('dir');
    let calls = 0;
    const verifier = verifierFor([key], { decryption: decrypt, isRevoked: () => ++calls > 2 });
    const jwe = await encryptToken(token(key), encrypt);
    await verifier.verifyAsync(jwe);
    await verifier.verifyAsync(jwe); // admitted on the second verification
    expect(verifier.cacheSize).toBe(1);
    await expectRefusedAsync(verifier, jwe, ErrorCodes.TOKEN_REVOKED);
    expect(calls).toBe(3);
  });

  // decryption oracle / key confusion: only the configured key and algorithm may open a token
  for (const alg of ALGS) {
    it(`refuses a ${alg} token for another recipient (ERR_TOKEN_DECRYPT)`, async () => {
      const ours = generateEncryptionKeys(alg);
      const theirs = generateEncryptionKeys(alg);
      const jwe = await encryptToken(token(key), theirs.encrypt);
      await expectRefusedAsync(verifierFor([key], { decryption: ours.decrypt }), jwe, ErrorCodes.TOKEN_DECRYPT);
    });
  }

  it('refuses a key-management algorithm other than the configured one (ERR_TOKEN_DECRYPT)', async () => {
    const dir = generateEncryptionKeys('dir');
    const ecdh = generateEncryptionKeys('ECDH-ES+A256KW');
    const jwe = await encryptToken(token(key), dir.encrypt);
    await expectRefusedAsync(verifierFor([key], { decryption: ecdh.decrypt }), jwe, ErrorCodes.TOKEN_DECRYPT);
  });

  it('refuses another content encryption, a missing or non-JWT cty, and a tampered ciphertext (ERR_TOKEN_DECRYPT)', async () => {
    const { encrypt, decrypt } = generateEncryptionKeys('dir');
    const verifier = verifierFor([key], { decryption: decrypt });
    const plaintext = Buffer.from(token(key));
    const a128 = createSecretKey(randomBytes(16));
    const other = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A128GCM', cty: 'JWT' }).encrypt(a128);
    const noCty = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(encrypt.key);
    const json = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'json' }).encrypt(encrypt.key);
    for (const jwe of [other, noCty, json]) await expectRefusedAsync(verifier, jwe, ErrorCodes.TOKEN_DECRYPT);
    const good = await encryptToken(token(key), encrypt);
    const parts = good.split('.');
    parts[3] = `${parts[3]?.[0] === 'A' ? 'B' : 'A'}${parts[3]?.slice(1)}`;
    await expectRefusedAsync(verifier, parts.join('.'), ErrorCodes.TOKEN_DECRYPT);
  });

  // encryption is not authentication: the inner JWS is verified in full, whoever encrypted it
  it('verifies the inner token: forged signature, expiry and typ all still apply', async () => {
    const { encrypt, decrypt } = generateEncryptionKeys('ECDH-ES+A256KW');
    const verifier = verifierFor([key], { decryption: decrypt });
    const forged = token(key).split('.').slice(0, 2).join('.');
    const signedByAttacker = `${forged}.${token(attacker).split('.')[2]}`;
    await expectRefusedAsync(verifier, await encryptToken(signedByAttacker, encrypt), ErrorCodes.TOKEN_SIGNATURE);
    await expectRefusedAsync(verifier, await encryptToken(token(key, { exp: NOW - 3600 }), encrypt), ErrorCodes.TOKEN_EXPIRED);
    await expectRefusedAsync(verifier, await encryptToken(token(key, {}, { typ: 'JWT' }), encrypt), ErrorCodes.TOKEN_TYPE);
    await expectRefusedAsync(verifier, await encryptToken('not a token', encrypt), ErrorCodes.TOKEN_MALFORMED);
  });

  it('refuses a JWE over the size cap before decrypting it (ERR_TOKEN_TOO_LARGE)', async () => {
    const { encrypt, decrypt } = generateEncryptionKeys('dir');
    const inner = token(key, { pad: 'p'.repeat(3000) });
    const jwe = await encryptToken(inner, encrypt);
    const verifier = verifierFor([key], { decryption: decrypt, maxTokenSize: inner.length + 100 });
    expect(jwe.length).toBeGreaterThan(inner.length + 100);
    expect(verifier.verify(inner).sub).toBe('user-1');
    await expectRefusedAsync(verifier, jwe, ErrorCodes.TOKEN_TOO_LARGE);
  });
});

describe('JWE without decryption', () => {
  it('refuses a JWE when no decryption key is configured (ERR_TOKEN_MALFORMED), and verify() always refuses one', async () => {
    const { encrypt, decrypt } = generateEncryptionKeys('dir');
    const jwe = await encryptToken(token(key), encrypt);
    await expectRefusedAsync(verifierFor([key]), jwe, ErrorCodes.TOKEN_MALFORMED);
    expectRefused(verifierFor([key]), jwe, ErrorCodes.TOKEN_MALFORMED);
    expectRefused(verifierFor([key], { decryption: decrypt }), jwe, ErrorCodes.TOKEN_MALFORMED);
  });
});

describe('encryption keys', () => {
  it('refuses keys that do not fit their algorithm (ERR_KEY_INVALID)', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectCode(() => assertEncryptionKey({ alg: 'dir', key: createSecretKey(randomBytes(16)) }, 'decrypt'), ErrorCodes.KEY_INVALID);
    expectCode(() => assertEncryptionKey({ alg: 'dir', key: p256.privateKey }, 'decrypt'), ErrorCodes.KEY_INVALID);
    expectCode(() => assertEncryptionKey({ alg: 'ECDH-ES+A256KW', key: p384.publicKey }, 'encrypt'), ErrorCodes.KEY_INVALID);
    expectCode(() => assertEncryptionKey({ alg: 'ECDH-ES+A256KW', key: p256.publicKey }, 'decrypt'), ErrorCodes.KEY_INVALID);
    expectCode(
      () => assertEncryptionKey({ alg: 'RSA-OAEP' as EncryptionAlgorithm, key: p256.publicKey }, 'encrypt'),
      ErrorCodes.KEY_INVALID,
    );
    await expectCodeAsync(encryptToken(token(key), { alg: 'dir', key: createSecretKey(randomBytes(16)) }), ErrorCodes.KEY_INVALID);
  });

  // late misconfiguration: a decryption key that cannot work must fail when the verifier is built
  it('createVerifier refuses an unusable decryption key at construction', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicOnly: DecryptionKey = { alg: 'ECDH-ES+A256KW', key: p256.publicKey };
    expectCode(() => verifierFor([key], { decryption: publicOnly }), ErrorCodes.KEY_INVALID);
    expectCode(() => verifierFor([key], { decryption: { alg: 'dir', key: createSecretKey(randomBytes(8)) } }), ErrorCodes.KEY_INVALID);
    expectCode(() => verifierFor([key], { decryption: { alg: 'dir' } as DecryptionKey }), ErrorCodes.INVALID_OPTION);
  });
});
