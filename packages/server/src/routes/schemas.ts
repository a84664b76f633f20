/**
 * JSON schemas shared by routes, and published in the OpenAPI document. A response schema also
 * serialises the answer (members it does not list are dropped), so each one lists exactly what
 * the route sends.
 */

export const errorSchema = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
} as const;

/** A user, the same members wherever one is answered (sign-up, cookie login). `name` is null when unset. */
export const userSchema = {
  type: 'object',
  required: ['id', 'email', 'name', 'created_at'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** A session as `GET /v1/sessions` lists it. */
export const sessionSchema = {
  type: 'object',
  required: ['id', 'kind', 'current', 'created_at', 'last_seen_at', 'expires_at', 'user_agent', 'ip'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['cookie', 'token'] },
    current: { type: 'boolean', description: 'the session this request is authenticated by' },
    created_at: { type: 'string', format: 'date-time' },
    last_seen_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time', description: 'the earlier of the idle and the absolute expiry' },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
  },
} as const;

export const tokenResponseSchema = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string', description: 'absent when the refresh token is held in a cookie' },
    scope: { type: 'string' },
  },
} as const;

/** A 204 answer: no body. */
export const noContent = (description: string) => ({ type: 'null', description }) as const;

/** A non-JSON answer of `type` (a string body, sent as it is). */
export const textBody = (type: string, description: string) =>
  ({ description, content: { [type]: { schema: { type: 'string' } } } }) as const;

const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'seconds to wait before retrying' } } as const;

/** What each error status means on this server, whatever the route. */
const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed request (`invalid_request`: body, parameters, headers, a missing Host), or a refusal named by `error`',
  401: 'Not authenticated',
  403: 'Refused: a cross-site request (`invalid_origin`) or a cookie-authenticated change without a valid X-CSRF-Token (`csrf_token_invalid`)',
  404: 'No such resource (`not_found`)',
  409: 'Conflict',
  413: 'The body is over 16 KiB (`request_too_large`)',
  414: 'A path parameter is too long (`invalid_request`)',
  415: 'Not JSON nor a form (`unsupported_media_type`)',
  429: 'Throttled after failures (`too_many_requests`): retry after Retry-After seconds',
  503: 'A store cannot answer (`temporarily_unavailable`) or the server is shutting down: retry after Retry-After seconds',
};

/**
 * Error responses in the `{ error, error_description }` shape, one per status, each described
 * by what it means here (`detail` replaces the generic text). 401 names its challenge header;
 * 429 and 503 their Retry-After.
 *
 * @example
 * response: { 201: userSchema, ...errors(400, 403, 413, 415, 429, 503, { 409: 'An account with this email exists (`email_taken`)' }) }
 */
export function errors(...statuses: (number | Record<number, string>)[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of statuses) {
    const entries: [number, string | undefined][] =
      typeof s === 'number' ? [[s, undefined]] : Object.entries(s).map(([k, v]) => [Number(k), v]);
    for (const [status, detail] of entries) {
      const headers =
        status === 401
          ? { 'www-authenticate': { type: 'string', description: 'the challenge (RFC 6750 Bearer, or Basic for resource servers)' } }
          : status === 429 || status === 503
            ? RETRY_AFTER
            : undefined;
      out[status] = { ...errorSchema, description: detail ?? STATUS_TEXT[status] ?? 'Refused', ...(headers ? { headers } : {}) };
    }
  }
  return out;
}

/** Statuses every route with a JSON or form body may answer besides its own: malformed, too large, wrong type. */
export const BODY_ERRORS = [400, 413, 415] as const;

/** What a revocation feed route refuses: a bad cursor, no or wrong credentials, a throttled client, a store outage. */
export const FEED_ERRORS = errors(400, 429, 503, {
  401: 'Resource-server credentials missing or wrong (`invalid_client`, `WWW-Authenticate: Basic`)',
});

type Requirement = Readonly<Record<string, readonly string[]>>;

/** Security requirements, by the schemes the OpenAPI document declares (plugins/openapi.ts). */
export const security: Record<'none' | 'user' | 'userChange' | 'resourceServer', readonly Requirement[]> = {
  /** No credentials. */
  none: [],
  /** A Bearer access token, or the session cookie. */
  user: [{ bearer: [] }, { session: [] }],
  /** A state change: Bearer, or the session cookie with X-CSRF-Token (a browser's Origin does instead). */
  userChange: [{ bearer: [] }, { session: [], csrf: [] }],
  /** A resource server's credentials from TESSERA_RESOURCE_SERVERS, by HTTP Basic. */
  resourceServer: [{ resourceServer: [] }],
};
