import type { IncomingHttpHeaders } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { authenticationRequired, type Refusal } from '../refusals.js';
import { checkRoles, checkScopes, type TokenSource, type VerifiedClaims, verifyRequestNow } from '../request.js';
import type { ResourceVerifier } from '../verifier.js';

/** Hono context variables set by the middleware: `c.get('claims')`. */
export type TesseraVariables = { claims: VerifiedClaims };

function send(c: Context, r: Refusal): Response {
  return c.json(r.body, r.status, r.headers);
}

/**
 * The request's Authorization (and, when wanted, Cookie) header. Under @hono/node-server the
 * Node request is at `c.env.incoming`, and its headers are read directly: going through
 * `c.req.header()` there builds a whole Fetch `Headers` object for the request first. Every
 * Authorization header is passed on (`headersDistinct`), so two of them are refused as they are
 * through `c.req.header()`, which joins them.
 */
function tokenSource(c: Context, withCookie: boolean): TokenSource {
  const incoming = (
    c.env as { incoming?: { headersDistinct?: Record<string, string[] | undefined>; headers?: IncomingHttpHeaders } } | undefined
  )?.incoming;
  const distinct = incoming?.headersDistinct;
  if (distinct !== undefined && typeof distinct === 'object' && incoming?.headers !== undefined) {
    return withCookie
      ? { authorization: distinct.authorization, cookie: incoming.headers.cookie }
      : { authorization: distinct.authorization };
  }
  return withCookie
    ? { authorization: c.req.header('authorization'), cookie: c.req.header('cookie') }
    : { authorization: c.req.header('authorization') };
}

/**
 * Hono middleware: verifies the Bearer token and sets `c.get('claims')`, or answers 401.
 *
 * @example
 * const app = new Hono<{ Variables: TesseraVariables }>();
 * app.use('/api/*', tesseraAuth({ verifier }));
 */
export function tesseraAuth(options: {
  verifier: ResourceVerifier;
  cookieName?: string;
}): MiddlewareHandler<{ Variables: TesseraVariables }> {
  const { verifier, cookieName } = options;
  if (!verifier || typeof verifier.verify !== 'function') throw new TypeError('tesseraAuth: "verifier" is required');
  const requestOptions = cookieName ? { cookieName } : {};
  return async (c, next) => {
    const source = tokenSource(c, cookieName !== undefined);
    const answer = verifyRequestNow(verifier, source, requestOptions);
    const result = answer instanceof Promise ? await answer : answer;
    if (!result.ok) return send(c, result.refusal);
    c.set('claims', result.claims);
    await next();
  };
}

/** Answers 403 `insufficient_scope` unless the token has every scope; 401 when `tesseraAuth` did not run first. */
export function requireScope(...scopes: string[]): MiddlewareHandler<{ Variables: TesseraVariables }> {
  return async (c, next) => {
    const claims = c.get('claims');
    // Mounted without `tesseraAuth` in front: a 401, not a 500 from reading undefined claims.
    const refusal = claims ? checkScopes(claims, scopes) : authenticationRequired();
    if (refusal) return send(c, refusal);
    await next();
  };
}

/** Answers 403 unless the token carries one of the roles; 401 when `tesseraAuth` did not run first. */
export function requireRole(...roles: string[]): MiddlewareHandler<{ Variables: TesseraVariables }> {
  return async (c, next) => {
    const claims = c.get('claims');
    const refusal = claims ? checkRoles(claims, roles) : authenticationRequired();
    if (refusal) return send(c, refusal);
    await next();
  };
}
