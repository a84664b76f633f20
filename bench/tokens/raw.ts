// The floor of the token benchmark: a JWT signed and verified with node:crypto and nothing else
// (no syntax, header or claim checks), so every library's row reads as its overhead over this.
import { Buffer } from 'node:buffer';
import { constants, createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import type { AccessTokenClaims, SigningKey } from '../../packages/core/src/index.js';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

function rawSigner(key: SigningKey): (input: Buffer) => Buffer {
  const options = { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const };
  switch (key.alg) {
    case 'HS256':
      return (input) => createHmac('sha256', key.privateKey).update(input).digest();
    case 'ES256':
      return (input) => sign('sha256', input, options);
    case 'EdDSA':
      return (input) => sign(null, input, key.privateKey);
    case 'RS256':
      return (input) => sign('sha256', input, key.privateKey);
    case 'PS256':
      return (input) => sign('sha256', input, { key: key.privateKey, ...PSS });
  }
}

function rawCheck(key: SigningKey): (input: Buffer, sig: Buffer) => boolean {
  const options = { key: key.key, dsaEncoding: 'ieee-p1363' as const };
  switch (key.alg) {
    case 'HS256':
      return (input, sig) => sig.length === 32 && timingSafeEqual(createHmac('sha256', key.key).update(input).digest(), sig);
    case 'ES256':
      return (input, sig) => verify('sha256', input, options, sig);
    case 'EdDSA':
      return (input, sig) => verify(null, input, key.key, sig);
    case 'RS256':
      return (input, sig) => verify('sha256', input, key.key, sig);
    case 'PS256':
      return (input, sig) => verify('sha256', input, { key: key.key, ...PSS }, sig);
  }
}

/**
 * Sign: JSON.stringify + base64url + crypto.sign, header encoded once per key; `claims` is called
 * per token, so the floor pays for building them as every other signer does.
 */
export function rawSign(key: SigningKey, claims: () => AccessTokenClaims): () => string {
  const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })).toString('base64url');
  const signBytes = rawSigner(key);
  return () => {
    const input = `${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`;
    return `${input}.${signBytes(Buffer.from(input, 'latin1')).toString('base64url')}`;
  };
}

/** Verify: split on '.', decode the signature, check it over the signing input bytes, JSON.parse the payload. */
export function rawVerify(key: SigningKey): (token: string) => unknown {
  const check = rawCheck(key);
  return (token) => {
    const [h, p, s] = token.split('.') as [string, string, string];
    if (!check(Buffer.from(token.slice(0, h.length + 1 + p.length), 'latin1'), Buffer.from(s, 'base64url'))) {
      throw new Error('bad signature');
    }
    return JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  };
}
