import type { KeyObject } from 'node:crypto';

/** Signature algorithms Tessera signs and verifies with. ES256 is the default. */
export type Algorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256' | 'HS256';

/** Every supported algorithm, in order of preference. */
export const ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256'];

/** A key's place in its lifecycle: `next` is published but not signing, `current` signs, `retired` is published until its tokens expire. */
export type KeyState = 'next' | 'current' | 'retired';

/** A public JWK as published in a JWKS (no private members). */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: Algorithm;
  use: 'sig';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/** A JSON Web Key Set. */
export interface Jwks {
  keys: PublicJwk[];
}

/** What a verifier needs of a key: its id, its pinned algorithm and the verification key. */
export interface VerificationKey {
  readonly kid: string;
  /** The only algorithm this key may be used with; a token's `alg` must equal it. */
  readonly alg: Algorithm;
  /** Public key (or the secret for HS256), ready for `node:crypto`. */
  readonly key: KeyObject;
}

/** A key pair (or HMAC secret) able to sign. */
export interface SigningKey extends VerificationKey {
  /** Private key (or the secret for HS256). */
  readonly privateKey: KeyObject;
}

/** Finds the verification key for a `kid`. A `Map<string, VerificationKey>` is one. */
export interface KeyResolver {
  get(kid: string): VerificationKey | undefined;
}

/** Claims of a Tessera access token (RFC 9068 profile). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  /** The server-side session this token belongs to. */
  sid?: string;
  client_id?: string;
  /** Space-separated scopes. */
  scope?: string;
  email?: string;
  name?: string;
  roles?: string[];
  [claim: string]: unknown;
}
