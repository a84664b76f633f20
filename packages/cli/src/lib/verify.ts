import { Buffer } from 'node:buffer';
import { AuthError } from '@tessera/core';
import { createVerifier } from '@tessera/verify';
import { CliError, UsageError } from './errors.js';

/** Options of {@link verifyToken}. */
export interface VerifyOptions {
  issuer: string;
  /** Default: the issuer (the server's own default `TESSERA_AUDIENCE`). */
  audience?: string;
  /** Default: `jwks_uri` of the issuer's `/.well-known/openid-configuration`. */
  jwks?: string;
  /** Milliseconds for each HTTP request. Default 10 000. */
  timeoutMs?: number;
}

/** A verdict: the claims, or the `AuthError` code and its message. */
export type Verdict = { valid: true; claims: Record<string, unknown>; kid: string | null } | { valid: false; code: string; reason: string };

function httpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: must be an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: must be an http(s) URL`);
  return value;
}

/** The issuer's JWKS URL from its discovery document (OpenID Connect Discovery §4). */
async function discoverJwks(issuer: string, timeoutMs: number): Promise<string> {
  const where = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let res: Response;
  try {
    res = await fetch(where, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new CliError(`cannot reach ${where} (${err instanceof Error ? err.message : String(err)}); pass --jwks`);
  }
  if (!res.ok) throw new CliError(`${where} answered ${res.status}; pass --jwks`);
  const doc = (await res.json().catch(() => null)) as { jwks_uri?: unknown; issuer?: unknown } | null;
  if (!doc || typeof doc.jwks_uri !== 'string') throw new CliError(`${where} names no jwks_uri; pass --jwks`);
  return doc.jwks_uri;
}

/** The `kid` of a compact token's header, for the report; null when unreadable. */
function kidOf(token: string): string | null {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : null;
  } catch {
    return null;
  }
}

/**
 * Verifies an access token as a resource service does (`@tessera/verify`: strict syntax, the
 * key's pinned algorithm, signature, `iss`, `aud`, `exp`/`nbf`, `typ`), with the JWKS fetched
 * once from the issuer. No revocation feed: a token revoked before it expires still verifies.
 */
export async function verifyToken(input: string, options: VerifyOptions): Promise<Verdict> {
  const issuer = httpUrl('--issuer', options.issuer);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const jwksUri = options.jwks !== undefined ? httpUrl('--jwks', options.jwks) : await discoverJwks(issuer, timeoutMs);
  const token = input.trim().replace(/^Bearer\s+/i, '');
  const verifier = createVerifier({ issuer, audience: options.audience ?? issuer, jwksUri, cache: false, jwks: { timeoutMs } });
  try {
    const claims = await verifier.verify(token);
    return { valid: true, claims: { ...claims }, kid: kidOf(token) };
  } catch (err) {
    // No key to check against because the key set could not be fetched: say that, not "no key matches".
    const jwks = verifier.jwksStatus();
    if (jwks && jwks.fetchedAt === null && jwks.lastError !== null) {
      throw new CliError(`cannot fetch the JWKS at ${jwksUri} (${jwks.lastError}); check --jwks or the issuer`);
    }
    if (err instanceof AuthError) return { valid: false, code: err.code, reason: err.message };
    throw err;
  } finally {
    verifier.close();
  }
}
