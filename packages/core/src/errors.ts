/**
 * Stable error codes. Callers switch on `code`, never on message text, and no
 * message ever contains a token, a key or a secret.
 */
export const ErrorCodes = {
  /** The token is not a well-formed compact JWS/JWE, or its header/payload is not a strict JSON object. */
  TOKEN_MALFORMED: 'ERR_TOKEN_MALFORMED',
  /** The token is longer than the verifier's size cap. */
  TOKEN_TOO_LARGE: 'ERR_TOKEN_TOO_LARGE',
  /** `alg` is missing, `none`, unsupported, or differs from the key's pinned algorithm. */
  TOKEN_ALG: 'ERR_TOKEN_ALG',
  /** A header parameter we refuse: unknown `crit`, `b64: false`, `jku`, `x5u`, `jwk`, `x5c`. */
  TOKEN_HEADER: 'ERR_TOKEN_HEADER',
  /** No key with the token's `kid` is known. */
  TOKEN_KEY: 'ERR_TOKEN_KEY',
  /** The signature does not verify. */
  TOKEN_SIGNATURE: 'ERR_TOKEN_SIGNATURE',
  /** `exp` is in the past (beyond leeway). */
  TOKEN_EXPIRED: 'ERR_TOKEN_EXPIRED',
  /** `nbf` or `iat` is in the future (beyond leeway). */
  TOKEN_NOT_YET_VALID: 'ERR_TOKEN_NOT_YET_VALID',
  /** A claim is missing, has the wrong type, or the wrong value (`iss`, `aud`, `sub`, …). */
  TOKEN_CLAIM: 'ERR_TOKEN_CLAIM',
  /** `typ` is not `at+jwt`: refresh tokens and ID tokens never pass as access tokens. */
  TOKEN_TYPE: 'ERR_TOKEN_TYPE',
  /** The revocation hook says the token's session, subject or id was revoked. */
  TOKEN_REVOKED: 'ERR_TOKEN_REVOKED',
  /** A verifier set to fail closed has had no revocation feed for longer than it tolerates. */
  REVOCATION_UNAVAILABLE: 'ERR_REVOCATION_UNAVAILABLE',
  /** A nested (encrypted) token could not be decrypted. */
  TOKEN_DECRYPT: 'ERR_TOKEN_DECRYPT',
  /** Key material is invalid, of the wrong type, or does not match its algorithm. */
  KEY_INVALID: 'ERR_KEY_INVALID',
  /** Key material is too weak (short HMAC secret, RSA modulus under 2048 bits). */
  KEY_WEAK: 'ERR_KEY_WEAK',
  /** No key is in a state that allows the requested operation (e.g. no `current` key to sign with). */
  KEY_UNAVAILABLE: 'ERR_KEY_UNAVAILABLE',
  /** An option passed to a factory is missing or invalid. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error Tessera throws on purpose. */
export class AuthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A token failed verification. `code` says why. */
export class TokenError extends AuthError {}

/** The token's `exp` has passed. Carries the expiry so callers can tell "just expired" from garbage. */
export class TokenExpiredError extends TokenError {
  /** The token's `exp`, seconds since the epoch. */
  readonly expiredAt: number;

  constructor(expiredAt: number) {
    super(ErrorCodes.TOKEN_EXPIRED, 'token has expired');
    this.expiredAt = expiredAt;
  }
}

/** The token's session, subject or id was revoked. */
export class TokenRevokedError extends TokenError {
  constructor() {
    super(ErrorCodes.TOKEN_REVOKED, 'token has been revoked');
  }
}

/** Key material was refused. */
export class KeyError extends AuthError {}

/** An option is missing or invalid; thrown at construction, never at first use. */
export class OptionError extends AuthError {
  constructor(message: string) {
    super(ErrorCodes.INVALID_OPTION, message);
  }
}

/** Shorthand used by the verifier's steps. */
export function tokenError(code: ErrorCode, message: string): TokenError {
  return new TokenError(code, message);
}
