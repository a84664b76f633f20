/**
 * Stable codes of the refusals the server's logic makes. Logic throws {@link Refused} with one of
 * these and knows nothing of HTTP; one table at the HTTP edge maps each code to a status, an
 * `error`, and headers. Callers switch on `code`, never on message text, and no message ever
 * contains a token, a password or a secret.
 */
export const RefusalCodes = {
  /** The request is malformed: a missing or invalid field, a header that cannot be parsed. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** Wrong email or password (or an unknown email: answered the same). */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  /** A refresh token, or a password presented as proof, is invalid, expired or already used. */
  INVALID_GRANT: 'INVALID_GRANT',
  /** A scope is malformed, not granted by this server, or wider than the login was granted. */
  INVALID_SCOPE: 'INVALID_SCOPE',
  /** The token endpoint was asked for a grant type it does not offer. */
  UNSUPPORTED_GRANT_TYPE: 'UNSUPPORTED_GRANT_TYPE',
  /** Too many failures on an identifier: back off for `retryAfter` seconds. */
  THROTTLED: 'THROTTLED',
  /** A new password fails the strength policy. */
  WEAK_PASSWORD: 'WEAK_PASSWORD',
  /** An account with this email exists. */
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  /** No credentials were presented where they are required. */
  AUTHENTICATION_REQUIRED: 'AUTHENTICATION_REQUIRED',
  /** The session cookie names a session that ended (revoked, expired, or unknown). */
  SESSION_ENDED: 'SESSION_ENDED',
  /** The authenticated account no longer exists. */
  ACCOUNT_GONE: 'ACCOUNT_GONE',
  /** A browser request made on behalf of another site (login CSRF, cross-site state change). */
  INVALID_ORIGIN: 'INVALID_ORIGIN',
  /** A cookie-authenticated state change without a valid `X-CSRF-Token`. */
  CSRF_TOKEN_INVALID: 'CSRF_TOKEN_INVALID',
  /** Resource-server credentials (HTTP Basic) are missing or wrong. */
  INVALID_CLIENT: 'INVALID_CLIENT',
  /** The named resource does not exist, or is not the caller's. */
  NOT_FOUND: 'NOT_FOUND',
  /** An administrative request names a user that does not exist. */
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  /** A role name is malformed, or a user would hold too many. */
  INVALID_ROLE: 'INVALID_ROLE',
  /** The caller is authenticated but does not hold the role the request needs (read from the store, not the token). */
  INSUFFICIENT_ROLE: 'INSUFFICIENT_ROLE',
  /** The password was right, but an administrator disabled the account. */
  ACCOUNT_DISABLED: 'ACCOUNT_DISABLED',
  /** A store cannot answer now (down, full, read-only): retry after `retryAfter` seconds, unchanged. */
  TEMPORARILY_UNAVAILABLE: 'TEMPORARILY_UNAVAILABLE',
} as const;

export type RefusalCode = (typeof RefusalCodes)[keyof typeof RefusalCodes];

/** Options of a {@link Refused}. */
export interface RefusedOptions {
  /** Seconds before a retry can succeed ({@link RefusalCodes.THROTTLED}). */
  retryAfter?: number;
}

/**
 * A request the server's logic refuses, with a stable `code`. The message is the description
 * a client may read: it names what was wrong, never a secret's value.
 */
export class Refused extends Error {
  readonly code: RefusalCode;
  /** Seconds before a retry can succeed, when the refusal is temporary. */
  readonly retryAfter: number | undefined;

  constructor(code: RefusalCode, message: string, options: RefusedOptions = {}) {
    super(message);
    this.name = 'Refused';
    this.code = code;
    this.retryAfter = options.retryAfter;
  }
}
