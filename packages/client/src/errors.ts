/**
 * Codes the client gives refusals it makes itself. A refusal from the server carries the server's
 * own `error` code instead (`invalid_grant`, `email_taken`, `invalid_credentials`, …).
 */
export const ClientErrorCodes = {
  /** The server could not be reached (offline, DNS, CORS refused the response). */
  NETWORK: 'network_error',
  /** The server answered something that is not the documented shape. */
  INVALID_RESPONSE: 'invalid_response',
  /** The call needs a signed-in user and there is none. */
  SIGNED_OUT: 'signed_out',
  /** An option or argument is wrong: a mistake in the calling code, not a user's. */
  INVALID_OPTION: 'invalid_option',
} as const;

/**
 * Every refused call rejects with this. Switch on `code`, never on the message: `code` is the
 * server's `error` member (RFC 6749 §5.2 words on the token endpoint) or one of
 * {@link ClientErrorCodes}.
 *
 * @example
 * try {
 *   await client.signIn({ email, password });
 * } catch (err) {
 *   if (err instanceof TesseraError && err.code === 'invalid_grant') showWrongPassword();
 * }
 */
export class TesseraError extends Error {
  /** The server's `error` code, or one of {@link ClientErrorCodes}. */
  readonly code: string;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** Seconds to wait before trying again, from `Retry-After` (throttling, outages). */
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, status = 0, retryAfter?: number) {
    super(message);
    this.name = 'TesseraError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}
