// What each credential weighs on the wire: the session cookie the auth server set, and access
// tokens with the claims the auth server issued (same issuer, audience, subject, session, client
// and scope), signed with each algorithm, with and without the optional email and roles, and
// encrypted (nested JWT, ECDH-ES+A256KW / A256GCM). Measured against the header and cookie budgets.
import { type AccessTokenClaims, createIssuer, encryptToken, generateEncryptionKeys, type SigningKey } from '@tessera/core';
import type { BenchAlg, SizeRow } from './types.js';

/** `Authorization: Bearer ` and `Cookie: `, the header bytes around the credential. */
const BEARER_PREFIX = 'Authorization: Bearer '.length;
const COOKIE_PREFIX = 'Cookie: '.length;

/** The optional claims of the "with email and roles" tokens. */
export const PROFILE = { email: 'jane.doe@example.com', roles: ['admin', 'billing', 'support'] };

/**
 * Size rows: the cookie (`name=value` as the browser sends it back), then per algorithm the
 * token as issued and with the profile claims, then the encrypted ES256 token with them.
 */
export async function measureSizes(claims: AccessTokenClaims, cookie: string, keys: ReadonlyMap<BenchAlg, SigningKey>): Promise<SizeRow[]> {
  const rows: SizeRow[] = [
    {
      id: 'cookie',
      label: 'session cookie',
      kind: 'cookie',
      bytes: Buffer.byteLength(cookie),
      headerBytes: COOKIE_PREFIX + Buffer.byteLength(cookie),
    },
  ];
  const input = {
    sub: claims.sub,
    ...(claims.sid !== undefined ? { sid: claims.sid } : {}),
    ...(claims.client_id !== undefined ? { client_id: claims.client_id } : {}),
    ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
  };
  const token = (bytes: number, row: Omit<SizeRow, 'bytes' | 'headerBytes'>): SizeRow => ({
    ...row,
    bytes,
    headerBytes: BEARER_PREFIX + bytes,
  });
  let profiled: string | null = null;
  for (const [alg, key] of keys) {
    const issuer = createIssuer({ issuer: claims.iss, audience: claims.aud, signingKey: key, ttl: 600 });
    const plain = issuer.issue(input).token;
    const rich = issuer.issue({ ...input, ...PROFILE }).token;
    if (alg === 'ES256') profiled = rich;
    rows.push(token(plain.length, { id: `jwt-${alg}`, label: `${alg} token`, kind: 'jwt', alg, withProfile: false }));
    rows.push(token(rich.length, { id: `jwt-${alg}-profile`, label: `${alg} token, email + roles`, kind: 'jwt', alg, withProfile: true }));
  }
  if (profiled) {
    const jwe = await encryptToken(profiled, generateEncryptionKeys('ECDH-ES+A256KW').encrypt);
    rows.push(
      token(jwe.length, {
        id: 'jwe-ES256-profile',
        label: 'ES256 token, email + roles, encrypted (JWE)',
        kind: 'jwe',
        alg: 'ES256',
        withProfile: true,
      }),
    );
  }
  return rows;
}
