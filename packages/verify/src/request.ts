import { type AccessTokenClaims, bearerCredential } from '@tessera/core';
import {
  authenticationRequired,
  insufficientRole,
  insufficientScope,
  malformedAuthorization,
  type Refusal,
  tokenRefusal,
} from './refusals.js';
import type { ResourceVerifier } from './verifier.js';

export type { Refusal } from './refusals.js';

/** The verified identity a framework adapter puts on its request slot. */
export type VerifiedClaims = Readonly<AccessTokenClaims>;

/** Result of {@link verifyRequest}: claims, or a refusal to send. Never throws for bad input. */
export type VerifyResult = { ok: true; claims: VerifiedClaims; token: string } | { ok: false; refusal: Refusal };

/** Where to find the token. */
export interface TokenSource {
  /** The `Authorization` header value. */
  authorization?: string | string[] | undefined;
  /** The `Cookie` header value (only read when `cookieName` is set). */
  cookie?: string | string[] | undefined;
}

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions {
  /** Also accept the access token from this cookie, for same-site apps. Default: Authorization header only. */
  cookieName?: string;
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
  if (token === null) return { ok: false, refusal: authenticationRequired() };
  if (token === false) return { ok: false, refusal: malformedAuthorization() };
  let claims: VerifiedClaims | Promise<VerifiedClaims>;
  try {
    claims = verifier.verifyNow(token);
  } catch (err) {
    return refused(err);
  }
  if (claims instanceof Promise) return claims.then((c): VerifyResult => ({ ok: true, claims: c, token }), refused);
  return { ok: true, claims, token };
}

function refused(err: unknown): VerifyResult {
  return { ok: false, refusal: tokenRefusal(err) };
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
  return required.every((s) => have.has(s)) ? null : insufficientScope(required);
}

/** Null when the token carries one of the roles; else a 403 refusal. */
export function checkRoles(claims: VerifiedClaims, anyOf: readonly string[]): Refusal | null {
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  return anyOf.some((r) => roles.includes(r)) ? null : insufficientRole(anyOf);
}
