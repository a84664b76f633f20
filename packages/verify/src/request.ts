import { type AccessTokenClaims, AuthError, bearerCredential, ErrorCodes } from '@tessera/core';
import type { ResourceVerifier } from './verifier.js';

/** The verified identity a framework adapter puts on its request slot. */
export type VerifiedClaims = Readonly<AccessTokenClaims>;

/** A refusal, ready to send: status, JSON body and headers (RFC 6750). */
export interface Refusal {
  status: 400 | 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** Result of {@link verifyRequest}: claims, or a refusal to send. Never throws for bad input. */
export type VerifyResult = { ok: true; claims: VerifiedClaims; token: string } | { ok: false; refusal: Refusal };

/** Where to find the token. */
export interface TokenSource {
  /** The `Authorization` header value. */
  authorization?: string | string[] | undefined;
  /** The `Cookie` header value (only read when `cookieName` is set). */
  cookie?: string | string[] | undefined;
}

export interface VerifyRequestOptions {
  /** Also accept the access token from this cookie, for same-site apps. Default: Authorization header only. */
  cookieName?: string;
}

const quote = (s: string) => s.replace(/["\\]/g, '');

function refuse(status: 400 | 401 | 403 | 503, error: string, description: string, challenge?: string): { ok: false; refusal: Refusal } {
  const headers: Record<string, string> = {};
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  return { ok: false, refusal: { status, headers, body: { error, error_description: description } } };
}

/** 401 with `WWW-Authenticate: Bearer` (and `error="invalid_token"` when a token was sent). */
export function unauthorized(description: string, tokenSent: boolean) {
  return tokenSent
    ? refuse(401, 'invalid_token', description, `Bearer error="invalid_token", error_description="${quote(description)}"`)
    : refuse(401, 'unauthorized', description, 'Bearer');
}

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const raw = Array.isArray(header) ? header.join('; ') : header;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Extracts a Bearer token: the token; `null` when there is none (no header, or credentials of
 * another scheme, such as `Basic`); `false` when the request is malformed (a `Bearer` header
 * without a token, or two Authorization headers).
 */
export function extractToken(source: TokenSource, options: VerifyRequestOptions = {}): string | null | false {
  // Two Authorization headers are ambiguous (which one would a proxy or the next service use?): refused.
  if (Array.isArray(source.authorization) && source.authorization.length > 1) return false;
  const h = Array.isArray(source.authorization) ? source.authorization[0] : source.authorization;
  // A header with another scheme is still a header: it wins over the cookie, like a Bearer one.
  if (h !== undefined && h !== '') return bearerCredential(h);
  if (options.cookieName) return cookieValue(source.cookie, options.cookieName) ?? null;
  return null;
}

const DESCRIPTIONS: Partial<Record<string, string>> = {
  [ErrorCodes.TOKEN_EXPIRED]: 'the access token expired',
  [ErrorCodes.TOKEN_REVOKED]: 'the access token was revoked',
};

function refusalFor(err: unknown): VerifyResult {
  if (!(err instanceof AuthError)) throw err;
  if (err.code === ErrorCodes.REVOCATION_UNAVAILABLE)
    return refuse(503, 'temporarily_unavailable', 'token revocation status is unknown; retry later');
  return unauthorized(DESCRIPTIONS[err.code] ?? 'the access token is invalid', true);
}

/**
 * {@link verifyRequest} without a promise whenever the answer is known at once: every cache hit,
 * every full verification with a loaded key, every refusal. Only a token naming a key this
 * service has not loaded yet returns a promise, settled after the (rate-limited) JWKS refetch.
 * Adapters call this and await only what is a promise.
 */
export function verifyRequestNow(
  verifier: ResourceVerifier,
  source: TokenSource,
  options: VerifyRequestOptions = {},
): VerifyResult | Promise<VerifyResult> {
  const token = extractToken(source, options);
  if (token === null) return unauthorized('authentication required', false);
  // A malformed request is a 400 (RFC 6750 §3.1), still with the challenge.
  if (token === false)
    return refuse(400, 'invalid_request', 'send one Authorization header: Bearer <token>', 'Bearer error="invalid_request"');
  try {
    return { ok: true, claims: verifier.verifyNow(token), token };
  } catch (err) {
    if (!(err instanceof AuthError && err.code === ErrorCodes.TOKEN_KEY)) return refusalFor(err);
    // Unknown kid: verify() refetches the JWKS (rate-limited) and tries once more.
    return verifier.verify(token).then((claims): VerifyResult => ({ ok: true, claims, token }), refusalFor);
  }
}

/**
 * Framework-neutral request verification: find the token, verify it, and answer with claims
 * or an RFC 6750 refusal. Every adapter is a thin wrapper over this (through {@link verifyRequestNow}).
 */
export async function verifyRequest(
  verifier: ResourceVerifier,
  source: TokenSource,
  options: VerifyRequestOptions = {},
): Promise<VerifyResult> {
  return verifyRequestNow(verifier, source, options);
}

/** Scopes of a token (`scope` claim, space-separated). */
export function scopesOf(claims: VerifiedClaims): Set<string> {
  return new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []);
}

/** Null when the token has every scope; else a 403 `insufficient_scope` refusal (RFC 6750 §3.1). */
export function checkScopes(claims: VerifiedClaims, required: readonly string[]): Refusal | null {
  const have = scopesOf(claims);
  if (required.every((s) => have.has(s))) return null;
  const scope = required.join(' ');
  return refuse(403, 'insufficient_scope', `requires scope: ${scope}`, `Bearer error="insufficient_scope", scope="${quote(scope)}"`)
    .refusal;
}

/** Null when the token carries one of the roles; else a 403 refusal. */
export function checkRoles(claims: VerifiedClaims, anyOf: readonly string[]): Refusal | null {
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (anyOf.some((r) => roles.includes(r))) return null;
  return refuse(403, 'insufficient_role', `requires one of the roles: ${anyOf.join(', ')}`).refusal;
}
