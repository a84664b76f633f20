import { type AccessTokenClaims, bearerCredential } from '@tessera/core';
import type { Session, UserProfile } from '@tessera/stores';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Tessera } from '../lib/context.js';
import { forbidden, HttpError, tokenFailure, unauthorized } from '../lib/http-errors.js';
import { safeEqual } from '../lib/secrets.js';
import { authenticateCookie } from '../lib/sessions.js';

/** Who a request speaks for, and how it proved it. */
export type Auth =
  | { kind: 'jwt'; userId: string; sid: string | null; claims: Readonly<AccessTokenClaims> }
  | { kind: 'session'; userId: string; sid: string; session: Session; user: UserProfile };

declare module 'fastify' {
  interface FastifyRequest {
    auth: Auth | null;
  }
}

/** The session cookie's name: `__Host-` prefixed (and Secure) when the issuer is https. */
export function cookieName(t: Tessera): string {
  return t.config.issuer.startsWith('https:') ? '__Host-tessera_session' : 'tessera_session';
}

/**
 * Attributes the session cookie is set and cleared with. Clearing must repeat them: a browser
 * ignores a `__Host-` cookie (even an expired one) that lacks `Secure` and `Path=/`.
 */
export function cookieOptions(t: Tessera) {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: t.config.issuer.startsWith('https:') } as const;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Origins whose requests may carry our cookie's authority: the issuer's own, and TESSERA_CORS_ORIGINS. */
export function isAllowedOrigin(t: Tessera, origin: string): boolean {
  return origin === new URL(t.config.issuer).origin || t.config.corsOrigins.includes(origin);
}

/**
 * Refuses requests a browser made on behalf of another site: a foreign `Origin`, or
 * `Sec-Fetch-Site: cross-site` (or `same-site` from an unlisted origin). Used for logins
 * (login CSRF) and, with the token fallback, for cookie-authenticated state changes.
 * Returns whether the browser headers vouched for the request.
 */
export function checkSiteHeaders(t: Tessera, request: FastifyRequest): 'trusted' | 'absent' {
  const origin = header(request, 'origin');
  const site = header(request, 'sec-fetch-site');
  if (origin !== undefined && origin !== 'null' && isAllowedOrigin(t, origin)) {
    // Our own origin cannot be cross-site: a browser that says so is not to be trusted with it.
    // An origin listed in TESSERA_CORS_ORIGINS may well be (an app on another site).
    if (site === 'cross-site' && !t.config.corsOrigins.includes(origin)) throw forbidden('invalid_origin', 'cross-site request refused');
    return 'trusted';
  }
  if (origin !== undefined) throw forbidden('invalid_origin', 'cross-site request refused');
  if (site === 'cross-site' || site === 'same-site') throw forbidden('invalid_origin', 'cross-site request refused');
  if (site === 'same-origin' || site === 'none') return 'trusted';
  return 'absent';
}

/** CSRF check for a cookie-authenticated state change: browser headers, else the session's `X-CSRF-Token`. */
function checkCsrf(t: Tessera, request: FastifyRequest, session: Session): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (checkSiteHeaders(t, request) === 'trusted') return;
  const token = header(request, 'x-csrf-token');
  if (typeof token !== 'string' || session.csrfToken === null || !safeEqual(token, session.csrfToken)) {
    throw forbidden('csrf_token_invalid', 'send X-CSRF-Token with the csrf_token from login');
  }
}

/**
 * Reads `Authorization: Bearer <token>`. Undefined when there is no Bearer credential (no header,
 * or another scheme such as `Basic`: RFC 6750 §3.1 answers those like no credentials at all);
 * throws 400 `invalid_request` for a malformed one (`Bearer` without a token, two values joined by a comma).
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const token = bearerCredential(header(request, 'authorization'));
  if (token === false) {
    throw new HttpError(400, 'invalid_request', 'send one Authorization header: Bearer <token>', {
      'www-authenticate': 'Bearer error="invalid_request"',
    });
  }
  return token ?? undefined;
}

/**
 * The preHandler of authenticated routes: authenticates by Bearer access token (verified locally,
 * no store read, decided in the same tick with no promise) or else by session cookie (a store
 * read, plus the CSRF check on state changes). Sets `request.auth`, or fails the request with a
 * 401 carrying an RFC 6750 challenge (403 for a failed CSRF check).
 */
export function authPreHandler(t: Tessera): preHandlerHookHandler {
  return (request, reply, done) => {
    let answer: Auth | Promise<Auth>;
    try {
      answer = authenticateNow(t, request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (answer instanceof Promise) answer.then(() => done(), done);
    else done();
  };
}

/** Synchronous for a Bearer token (returned or thrown), a promise for a cookie. */
function authenticateNow(t: Tessera, request: FastifyRequest, reply: FastifyReply): Auth | Promise<Auth> {
  const token = bearerToken(request);
  if (token !== undefined) {
    let claims: Readonly<AccessTokenClaims>;
    try {
      claims = t.verifier.verify(token);
    } catch (err) {
      throw tokenFailure(err);
    }
    request.auth = { kind: 'jwt', userId: claims.sub, sid: claims.sid ?? null, claims };
    return request.auth;
  }
  const name = cookieName(t);
  const cookie = request.cookies[name];
  if (cookie !== undefined) return authenticateByCookie(t, request, reply, name, cookie);
  throw unauthorized('authentication required', false);
}

async function authenticateByCookie(t: Tessera, request: FastifyRequest, reply: FastifyReply, name: string, cookie: string): Promise<Auth> {
  const found = await authenticateCookie(t, cookie);
  if (!found) {
    reply.clearCookie(name, cookieOptions(t));
    throw unauthorized('the session has ended; sign in again', false, 'invalid_session');
  }
  const { session, user } = found;
  checkCsrf(t, request, session);
  request.auth = { kind: 'session', userId: session.userId, sid: session.id, session, user };
  return request.auth;
}
