import { createPrivateKey, createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { exportJWK, importJWK, type JWK } from 'jose';
import { ErrorCodes, KeyError } from '../errors.js';
import type { Algorithm, SigningKey, VerificationKey } from '../types.js';
import { assertAlgorithm, assertKeyFitsAlgorithm } from './check.js';
import { thumbprint } from './thumbprint.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/** Options for {@link importJwk}. */
export interface ImportJwkOptions {
  /** The algorithm to pin. Required unless the JWK carries `alg`; when both are given they must agree. */
  alg?: Algorithm;
}

function pinnedAlgorithm(jwk: JWK, options: ImportJwkOptions): Algorithm {
  const alg = options.alg ?? jwk.alg;
  if (alg === undefined) throw new KeyError(ErrorCodes.KEY_INVALID, 'the key has no algorithm; pass one to pin it');
  assertAlgorithm(alg);
  if (jwk.alg !== undefined && jwk.alg !== alg)
    throw new KeyError(ErrorCodes.KEY_INVALID, 'the JWK "alg" differs from the pinned algorithm');
  if (jwk.use !== undefined && jwk.use !== 'sig')
    throw new KeyError(ErrorCodes.KEY_INVALID, 'the JWK is not a signature key ("use" is not "sig")');
  const ops: unknown = jwk.key_ops;
  if (ops !== undefined && (!Array.isArray(ops) || !ops.some((op) => op === 'sign' || op === 'verify'))) {
    throw new KeyError(ErrorCodes.KEY_INVALID, 'the JWK "key_ops" allow neither sign nor verify');
  }
  return alg;
}

async function toKeyObject(jwk: JWK, alg: Algorithm): Promise<KeyObject> {
  let imported: Awaited<ReturnType<typeof importJWK>>;
  try {
    imported = await importJWK({ ...jwk, ext: true }, alg, { extractable: true });
  } catch {
    throw new KeyError(ErrorCodes.KEY_INVALID, `the JWK is not a valid ${alg} key`);
  }
  return imported instanceof Uint8Array ? createSecretKey(imported) : KeyObject.from(imported);
}

/** Public parts of a key as a JWK, via jose; never includes `d`, `p`, `q` or `k`. */
async function publicJwkOf(key: KeyObject): Promise<JWK> {
  const jwk = await exportJWK(key.type === 'private' ? createPublicKey(key) : key);
  for (const member of PRIVATE_MEMBERS) delete jwk[member];
  return jwk;
}

/**
 * Imports a public JWK as a verification key with its algorithm pinned. `kid` is the
 * JWK's own `kid` when present (foreign issuers name their keys), else its RFC 7638 thumbprint.
 * Private members, if any, are ignored.
 */
export async function importVerificationJwk(jwk: JWK, options: ImportJwkOptions = {}): Promise<VerificationKey> {
  const alg = pinnedAlgorithm(jwk, options);
  let key: KeyObject;
  if (alg === 'HS256') {
    key = await toKeyObject(jwk, alg);
  } else {
    const pub: JWK = { ...jwk };
    for (const member of PRIVATE_MEMBERS) delete pub[member];
    key = await toKeyObject(pub, alg);
  }
  assertKeyFitsAlgorithm(key, alg);
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : await thumbprint(alg === 'HS256' ? jwk : await publicJwkOf(key));
  return { kid, alg, key };
}

/** Imports a private JWK (or an `oct` JWK for HS256) as a signing key with its algorithm pinned and `kid` set to its thumbprint. */
export async function importSigningJwk(jwk: JWK, options: ImportJwkOptions = {}): Promise<SigningKey> {
  const alg = pinnedAlgorithm(jwk, options);
  const privateKey = await toKeyObject(jwk, alg);
  if (privateKey.type === 'public') throw new KeyError(ErrorCodes.KEY_INVALID, 'a private key is required to sign');
  return fromKeyObject(privateKey, alg);
}

/** Imports a PEM (PKCS#8 private or SPKI public) key with its algorithm pinned. Returns a signing key for private PEMs. */
export async function importPem(pem: string, alg: Algorithm): Promise<VerificationKey | SigningKey> {
  assertAlgorithm(alg);
  if (alg === 'HS256') throw new KeyError(ErrorCodes.KEY_INVALID, 'HS256 keys are secrets, not PEM documents');
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new KeyError(ErrorCodes.KEY_INVALID, 'the PEM document is not a valid key');
  }
  if (key.type === 'private') return fromKeyObject(key, alg);
  assertKeyFitsAlgorithm(key, alg);
  return { kid: await thumbprint(await publicJwkOf(key)), alg, key };
}

/** Imports raw bytes as an HS256 secret (at least 32 bytes). */
export async function importSecret(secret: Uint8Array): Promise<SigningKey> {
  return fromKeyObject(createSecretKey(secret), 'HS256');
}

/** Wraps a `node:crypto` private or secret key as a signing key, checking it fits `alg`. */
export async function fromKeyObject(privateKey: KeyObject, alg: Algorithm): Promise<SigningKey> {
  assertAlgorithm(alg);
  assertKeyFitsAlgorithm(privateKey, alg);
  if (alg === 'HS256') {
    const jwk = await exportJWK(privateKey);
    return { kid: await thumbprint(jwk), alg, key: privateKey, privateKey };
  }
  if (privateKey.type !== 'private') throw new KeyError(ErrorCodes.KEY_INVALID, 'a private key is required to sign');
  const key = createPublicKey(privateKey);
  return { kid: await thumbprint(await publicJwkOf(key)), alg, key, privateKey };
}

/** The public JWK of a key for publication: `kty`, curve/modulus members, `kid`, `alg`, `use: "sig"`. */
export async function exportPublicJwk(key: VerificationKey): Promise<JWK> {
  if (key.alg === 'HS256') throw new KeyError(ErrorCodes.KEY_INVALID, 'HS256 secrets are never published');
  return { ...(await publicJwkOf(key.key)), kid: key.kid, alg: key.alg, use: 'sig' };
}

/** The full private JWK of a signing key, for storage (encrypt it at rest). */
export async function exportPrivateJwk(key: SigningKey): Promise<JWK> {
  return { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: 'sig' };
}
