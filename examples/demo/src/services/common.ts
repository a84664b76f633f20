import { createVerifier, type ResourceVerifier } from '@tessera/verify';

/** What each demo service needs to know about the auth server and the app. */
export interface ServiceOptions {
  /** The auth server's issuer URL (`iss` in its tokens), e.g. `http://localhost:3000`. */
  issuer: string;
  /** This service's audience: its own origin, which the auth server lists in `TESSERA_AUDIENCE`. */
  audience: string;
  /** The one origin whose pages may read this service's answers (the demo app's). */
  appOrigin: string;
  /** This service's resource-server credentials, for the revocation feed. */
  credentials: { id: string; secret: string };
}

/** What `GET /hello` answers: which service, the verified claims, and how long verifying them took. */
export interface HelloBody {
  service: string;
  claims: Readonly<Record<string, unknown>>;
  verify_ms: number;
}

/**
 * A verifier for one demo service: the issuer's JWKS, and its revocation feed over SSE. The feed
 * reconnects within a second of the auth server coming back (the default backs off to 5 s).
 */
export function demoVerifier(options: ServiceOptions): ResourceVerifier {
  return createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUri: `${options.issuer}/.well-known/jwks.json`,
    revocations: { credentials: options.credentials, maxRetryMs: 1_000 },
  });
}

/**
 * The CORS answer for one allowed origin, the same for both frameworks: a page on `appOrigin` may
 * send a Bearer token and read the answer (and its `Server-Timing`); any other origin gets no
 * CORS header, so its page cannot read anything. No credentials mode: a Bearer header needs none,
 * and no cookie is ever meant for these services.
 */
export function corsHeaders(appOrigin: string, origin: string | undefined, preflight: boolean): Record<string, string> {
  const headers: Record<string, string> = { vary: 'Origin' };
  if (origin !== appOrigin) return headers;
  headers['access-control-allow-origin'] = appOrigin;
  headers['access-control-expose-headers'] = 'Server-Timing';
  if (preflight) {
    headers['access-control-allow-methods'] = 'GET';
    headers['access-control-allow-headers'] = 'Authorization';
    headers['access-control-max-age'] = '600';
  }
  return headers;
}

/** The `Server-Timing` entry for a verification that took `ms`. */
export const serverTiming = (ms: number): string => `verify;dur=${ms.toFixed(3)};desc="token verification"`;

/** Milliseconds, rounded to the microsecond: what a person reads, without float noise. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;
