import { ErrorCodes, TokenExpiredError, tokenError } from '../errors.js';
import type { AccessTokenClaims } from '../types.js';

/** What {@link checkClaims} checks against. Times in seconds. */
export interface ClaimRules {
  issuer: string;
  audience: readonly string[];
  leeway: number;
}

function claimError(message: string) {
  return tokenError(ErrorCodes.TOKEN_CLAIM, message);
}

/**
 * Checks a payload against the access-token rules at `now` (seconds) and returns it typed.
 * `iss` must be a string equal to the issuer (an array never passes, CVE-2025-30144);
 * `aud` a string or array of strings containing one of ours; `exp` required; `sub` a
 * non-empty string; NumericDates must be finite numbers; `nbf` and `iat` not in the future
 * beyond `leeway`; registered string claims must be strings.
 */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, now: number): AccessTokenClaims {
  // One read per claim, checked in place: this runs on every cache miss.
  const { iss, aud, exp, nbf, iat, sub, jti, sid, client_id, scope, email, name, roles } = payload;
  if (exp !== undefined && !isNumericDate(exp)) throw claimError('"exp" must be a NumericDate');
  if (iat !== undefined && !isNumericDate(iat)) throw claimError('"iat" must be a NumericDate');
  if (nbf !== undefined && !isNumericDate(nbf)) throw claimError('"nbf" must be a NumericDate');
  if (sub !== undefined && typeof sub !== 'string') throw claimError('"sub" must be a string');
  if (jti !== undefined && typeof jti !== 'string') throw claimError('"jti" must be a string');
  if (sid !== undefined && typeof sid !== 'string') throw claimError('"sid" must be a string');
  if (client_id !== undefined && typeof client_id !== 'string') throw claimError('"client_id" must be a string');
  if (scope !== undefined && typeof scope !== 'string') throw claimError('"scope" must be a string');
  if (email !== undefined && typeof email !== 'string') throw claimError('"email" must be a string');
  if (name !== undefined && typeof name !== 'string') throw claimError('"name" must be a string');
  if (iss !== rules.issuer) throw claimError('"iss" is not the expected issuer');
  if (!audienceMatches(aud, rules.audience)) throw claimError('"aud" does not include this audience');
  if (exp === undefined) throw claimError('"exp" is required');
  if (typeof sub !== 'string' || sub.length === 0) throw claimError('"sub" is required');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw claimError('"roles" must be an array of strings');
  }
  if ((exp as number) <= now - rules.leeway) throw new TokenExpiredError(exp as number);
  if (nbf !== undefined && (nbf as number) > now + rules.leeway)
    throw tokenError(ErrorCodes.TOKEN_NOT_YET_VALID, 'token is not valid yet ("nbf")');
  if (iat !== undefined && (iat as number) > now + rules.leeway)
    throw tokenError(ErrorCodes.TOKEN_NOT_YET_VALID, 'token was issued in the future ("iat")');
  return payload as AccessTokenClaims;
}

function isNumericDate(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

function audienceMatches(aud: unknown, ours: readonly string[]): boolean {
  if (typeof aud === 'string') return ours.includes(aud);
  if (!Array.isArray(aud) || aud.length === 0) return false;
  let match = false;
  for (const a of aud) {
    if (typeof a !== 'string') return false;
    if (ours.includes(a)) match = true;
  }
  return match;
}
