import { ErrorCodes, TokenExpiredError, tokenError } from '../errors.js';
import type { AccessTokenClaims } from '../types.js';

/** What {@link checkClaims} checks against. Times in seconds. */
export interface ClaimRules {
  issuer: string;
  audience: readonly string[];
  leeway: number;
}

const STRING_CLAIMS = ['sub', 'jti', 'sid', 'client_id', 'scope', 'email', 'name'] as const;
const DATE_CLAIMS = ['exp', 'iat', 'nbf'] as const;

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
  for (const name of DATE_CLAIMS) {
    const v = payload[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw claimError(`"${name}" must be a NumericDate`);
  }
  for (const name of STRING_CLAIMS) {
    const v = payload[name];
    if (v !== undefined && typeof v !== 'string') throw claimError(`"${name}" must be a string`);
  }
  const { iss, aud, exp, nbf, iat, sub, roles } = payload as Partial<AccessTokenClaims>;
  if (iss !== rules.issuer) throw claimError('"iss" is not the expected issuer');
  if (!audienceMatches(aud, rules.audience)) throw claimError('"aud" does not include this audience');
  if (exp === undefined) throw claimError('"exp" is required');
  if (typeof sub !== 'string' || sub.length === 0) throw claimError('"sub" is required');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw claimError('"roles" must be an array of strings');
  }
  if (exp <= now - rules.leeway) throw new TokenExpiredError(exp);
  if (nbf !== undefined && nbf > now + rules.leeway) throw tokenError(ErrorCodes.TOKEN_NOT_YET_VALID, 'token is not valid yet ("nbf")');
  if (iat !== undefined && iat > now + rules.leeway)
    throw tokenError(ErrorCodes.TOKEN_NOT_YET_VALID, 'token was issued in the future ("iat")');
  return payload as AccessTokenClaims;
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
