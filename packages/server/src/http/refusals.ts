import { type RefusalCode, RefusalCodes, type Refused } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route is an OAuth 2.0 endpoint: refusals with an OAuth answer of their own
     * (RFC 6749 §5.2) take it instead of the default one.
     */
    oauth?: boolean;
  }
}

/**
 * A refusal ready to send: status, headers and the `{ error, error_description }` body. The shape
 * of `@tessera/verify/refusals`' `Refusal`, with any status.
 */
export interface HttpRefusal {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/**
 * An error that already is an HTTP answer: a token refusal from `@tessera/verify/refusals`
 * (the table every verifier shares). The error handler sends it as it is.
 */
export class RefusalError extends Error {
  readonly refusal: HttpRefusal;

  constructor(refusal: HttpRefusal) {
    super(refusal.body.error_description);
    this.name = 'RefusalError';
    this.refusal = refusal;
  }
}

/** How one code is answered. `description` replaces the `Refused` message when set. */
interface Answer {
  status: number;
  error: string;
  description?: string;
  /** `WWW-Authenticate`: every 401 carries a challenge (RFC 7235 §3.1). */
  challenge?: string;
}

/** One row: the answer, and the one an OAuth endpoint gives instead when it differs. */
interface Row extends Answer {
  oauth?: Answer;
}

/**
 * Every code the server's logic refuses with, and its HTTP answer. No token was sent with any of
 * these, so a Bearer challenge names no `error=` (RFC 6750 §3.1).
 */
const REFUSALS: Readonly<Record<RefusalCode, Row>> = {
  [RefusalCodes.INVALID_REQUEST]: { status: 400, error: 'invalid_request' },
  [RefusalCodes.INVALID_CREDENTIALS]: {
    status: 401,
    error: 'invalid_credentials',
    challenge: 'Bearer',
    // RFC 6749 §5.2: the token endpoint answers a wrong resource-owner password as a bad grant.
    oauth: { status: 400, error: 'invalid_grant', description: 'invalid username or password' },
  },
  [RefusalCodes.INVALID_GRANT]: { status: 400, error: 'invalid_grant' },
  [RefusalCodes.INVALID_SCOPE]: { status: 400, error: 'invalid_scope' },
  [RefusalCodes.UNSUPPORTED_GRANT_TYPE]: { status: 400, error: 'unsupported_grant_type' },
  [RefusalCodes.THROTTLED]: { status: 429, error: 'too_many_requests' },
  [RefusalCodes.WEAK_PASSWORD]: { status: 400, error: 'weak_password' },
  [RefusalCodes.EMAIL_TAKEN]: { status: 409, error: 'email_taken' },
  [RefusalCodes.AUTHENTICATION_REQUIRED]: { status: 401, error: 'unauthorized', challenge: 'Bearer' },
  [RefusalCodes.SESSION_ENDED]: { status: 401, error: 'invalid_session', challenge: 'Bearer' },
  [RefusalCodes.ACCOUNT_GONE]: { status: 401, error: 'unauthorized', challenge: 'Bearer' },
  [RefusalCodes.INVALID_ORIGIN]: { status: 403, error: 'invalid_origin' },
  [RefusalCodes.CSRF_TOKEN_INVALID]: { status: 403, error: 'csrf_token_invalid' },
  [RefusalCodes.INVALID_CLIENT]: { status: 401, error: 'invalid_client', challenge: 'Basic realm="tessera"' },
  [RefusalCodes.NOT_FOUND]: { status: 404, error: 'not_found' },
  [RefusalCodes.USER_NOT_FOUND]: { status: 404, error: 'user_not_found' },
  [RefusalCodes.INVALID_ROLE]: { status: 400, error: 'invalid_role' },
  [RefusalCodes.INSUFFICIENT_ROLE]: { status: 403, error: 'insufficient_role' },
  [RefusalCodes.ACCOUNT_DISABLED]: {
    status: 403,
    error: 'account_disabled',
    // RFC 6749 §5.2: the token endpoint answers a grant it will not honour as a bad grant.
    oauth: { status: 400, error: 'invalid_grant', description: 'account is disabled' },
  },
  // RFC 6749 §4.1.2.1's code for "cannot handle the request now", on every endpoint alike.
  [RefusalCodes.TEMPORARILY_UNAVAILABLE]: { status: 503, error: 'temporarily_unavailable' },
};

/**
 * The HTTP answer to a refusal of the server's logic, on an OAuth endpoint or not.
 *
 * @example
 * refusalOf(new Refused(RefusalCodes.THROTTLED, 'too many failed attempts; retry later', { retryAfter: 30 }), false)
 * // { status: 429, headers: { 'retry-after': '30' }, body: { error: 'too_many_requests', … } }
 */
export function refusalOf(err: Refused, oauth: boolean): HttpRefusal {
  const row = REFUSALS[err.code];
  const answer: Answer = (oauth && row.oauth) || row;
  const headers: Record<string, string> = {};
  if (answer.challenge !== undefined) headers['www-authenticate'] = answer.challenge;
  // Whole seconds, never 0: a client told to retry at once would hammer the back-off.
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  return { status: answer.status, headers, body: { error: answer.error, error_description: answer.description ?? err.message } };
}
