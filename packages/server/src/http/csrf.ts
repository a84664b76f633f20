import type { Session } from '@tessera/stores';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { type ServerSecrets, safeEqual } from '../lib/secrets.js';
import { header } from './header.js';

/** The configuration the CSRF checks read: our own origin, and the origins allowed beside it. */
export type Origins = Pick<Config, 'issuer' | 'corsOrigins'>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const crossSite = () => new Refused(RefusalCodes.INVALID_ORIGIN, 'cross-site request refused');

// The issuer's origin, parsed once per issuer rather than on every checked request.
let parsedIssuer = '';
let issuerOrigin = '';
function originOf(issuer: string): string {
  if (issuer !== parsedIssuer) {
    issuerOrigin = new URL(issuer).origin;
    parsedIssuer = issuer;
  }
  return issuerOrigin;
}

/** Origins whose requests may carry our cookie's authority: the issuer's own, and TESSERA_CORS_ORIGINS. */
export function isAllowedOrigin(origins: Origins, origin: string): boolean {
  return origin === originOf(origins.issuer) || origins.corsOrigins.includes(origin);
}

/**
 * Refuses requests a browser made on behalf of another site: a foreign `Origin`, or
 * `Sec-Fetch-Site: cross-site` (or `same-site` from an unlisted origin). Used for logins
 * (login CSRF) and, with the token fallback, for cookie-authenticated state changes.
 * Returns whether the browser headers vouched for the request.
 */
export function checkSiteHeaders(origins: Origins, request: FastifyRequest): 'trusted' | 'absent' {
  const origin = header(request, 'origin');
  const site = header(request, 'sec-fetch-site');
  if (origin !== undefined && origin !== 'null' && isAllowedOrigin(origins, origin)) {
    // Our own origin cannot be cross-site: a browser that says so is not to be trusted with it.
    // An origin listed in TESSERA_CORS_ORIGINS may well be (an app on another site).
    if (site === 'cross-site' && !origins.corsOrigins.includes(origin)) throw crossSite();
    return 'trusted';
  }
  if (origin !== undefined) throw crossSite();
  if (site === 'cross-site' || site === 'same-site') throw crossSite();
  if (site === 'same-origin' || site === 'none') return 'trusted';
  return 'absent';
}

/**
 * CSRF check for a cookie-authenticated state change: browser headers, else `X-CSRF-Token` equal
 * to the session's token. The token is derived from the session id ({@link ServerSecrets.csrfToken})
 * and compared in constant time; a value a store may still hold from before tokens were derived
 * is not accepted (it is not a credential any more), so such a client fetches the current one.
 */
export function checkCsrf(
  origins: Origins,
  request: FastifyRequest,
  session: Pick<Session, 'id'>,
  secrets: Pick<ServerSecrets, 'csrfToken'>,
): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (checkSiteHeaders(origins, request) === 'trusted') return;
  const token = header(request, 'x-csrf-token');
  if (typeof token !== 'string' || !safeEqual(token, secrets.csrfToken(session.id))) {
    throw new Refused(RefusalCodes.CSRF_TOKEN_INVALID, 'send X-CSRF-Token with the csrf_token from login');
  }
}
