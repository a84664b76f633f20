import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { OptionError } from '../errors.js';
import { encodeBase64url } from '../lib/base64url.js';
import type { AccessTokenClaims, SigningKey } from '../types.js';
import { signBytes } from './signature.js';

/** Default access-token lifetime in seconds. */
export const DEFAULT_ACCESS_TOKEN_TTL = 600;

/** Options for {@link createIssuer}. */
export interface IssuerOptions {
  /** `iss` of every token. Required. */
  issuer: string;
  /** Default `aud` when {@link AccessTokenInput.aud} is absent. Default: the issuer. */
  audience?: string | string[];
  /** Supplies the signing key: a `KeySet`'s current key, or a fixed key. Called on every issue, so rotation takes effect at once. */
  signingKey: (() => SigningKey) | SigningKey;
  /** Lifetime in seconds. Default 600. */
  ttl?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** What the caller decides about a token; the issuer adds `iss`, `iat`, `exp`, `jti`. */
export interface AccessTokenInput {
  sub: string;
  sid?: string;
  client_id?: string;
  scope?: string;
  aud?: string | string[];
  email?: string;
  name?: string;
  roles?: string[];
  /** Lifetime of this one token in seconds; default the issuer's `ttl`. */
  ttl?: number;
}

/** A freshly issued access token. */
export interface IssuedToken {
  token: string;
  claims: AccessTokenClaims;
  /** The signing key's `kid`. */
  kid: string;
}

/** Issues access tokens. */
export interface Issuer {
  /** Signs an access token (`typ: at+jwt`) with the current key. Synchronous. */
  issue(input: AccessTokenInput): IssuedToken;
}

function ttlOf(value: number | undefined, fallback: number): number {
  const ttl = value ?? fallback;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new OptionError('"ttl" must be a positive integer of seconds');
  return ttl;
}

/**
 * Creates an access-token issuer (RFC 9068 profile): header `{ alg, kid, typ: "at+jwt" }`,
 * claims `iss sub aud exp iat jti sid client_id scope` (+ `email`, `name`, `roles` when given).
 *
 * @example
 * const issuer = createIssuer({ issuer: 'https://auth.example', signingKey: () => keySet.signingKey() });
 * const { token } = issuer.issue({ sub: user.id, sid, client_id: 'web', scope: 'openid' });
 */
export function createIssuer(options: IssuerOptions): Issuer {
  if (typeof options?.issuer !== 'string' || options.issuer === '') throw new OptionError('"issuer" is required');
  const signingKey = options.signingKey;
  if (typeof signingKey !== 'function' && (typeof signingKey !== 'object' || signingKey === null)) {
    throw new OptionError('"signingKey" is required');
  }
  const currentKey = typeof signingKey === 'function' ? signingKey : () => signingKey;
  const iss = options.issuer;
  const defaultAud = options.audience ?? iss;
  const defaultTtl = ttlOf(options.ttl, DEFAULT_ACCESS_TOKEN_TTL);
  const clock = options.clock ?? Date.now;
  // Encoded headers per key: the header of a key never changes.
  const headers = new WeakMap<SigningKey, string>();

  return {
    issue(input) {
      if (typeof input?.sub !== 'string' || input.sub === '') throw new OptionError('"sub" is required');
      const key = currentKey();
      let header = headers.get(key);
      if (header === undefined) {
        header = encodeBase64url(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }));
        headers.set(key, header);
      }
      const iat = Math.floor(clock() / 1000);
      const claims: AccessTokenClaims = {
        iss,
        sub: input.sub,
        aud: input.aud ?? defaultAud,
        exp: iat + ttlOf(input.ttl, defaultTtl),
        iat,
        jti: randomUUID(),
      };
      if (input.sid !== undefined) claims.sid = input.sid;
      if (input.client_id !== undefined) claims.client_id = input.client_id;
      if (input.scope !== undefined) claims.scope = input.scope;
      if (input.email !== undefined) claims.email = input.email;
      if (input.name !== undefined) claims.name = input.name;
      if (input.roles !== undefined) claims.roles = input.roles;
      const signingInput = `${header}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`;
      const signature = signBytes(Buffer.from(signingInput, 'latin1'), key).toString('base64url');
      return { token: `${signingInput}.${signature}`, claims, kid: key.kid };
    },
  };
}
