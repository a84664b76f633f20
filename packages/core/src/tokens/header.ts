import { ErrorCodes, tokenError } from '../errors.js';
import { decodeBase64url } from '../lib/base64url.js';
import { parseJsonObject } from '../lib/json.js';
import { ALGORITHMS, type Algorithm } from '../types.js';

/** The protected header of a JWS after {@link parseHeader} checked it. */
export interface JwsHeader {
  alg: Algorithm;
  kid: string;
  typ: string;
  [member: string]: unknown;
}

/** Longest `kid` we look up. Tessera's are 43 characters; anything much longer is an attack. */
export const MAX_KID_LENGTH = 256;

/**
 * Header members that would let the token choose its own key, point us at a URL, change
 * how the payload is read, or demand an extension we do not implement. We never fetch or
 * use them, and a token that carries them is refused outright.
 */
const FORBIDDEN = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64', 'zip'] as const;

/** True for `at+jwt` and `application/at+jwt`, case-insensitively (RFC 9068 §2.1, RFC 7515 §4.1.9). */
export function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === 'at+jwt' || t === 'application/at+jwt';
}

/**
 * Decodes and checks a header segment (already known to be canonical base64url):
 * a strict JSON object; `alg` one of ours (so `none` in any case is refused); no
 * forbidden member; `kid` a bounded string; `typ` an access-token type.
 * Throws a {@link TokenError} with the specific code.
 */
export function parseHeader(segment: string): JwsHeader {
  const header = parseJsonObject(decodeBase64url(segment));
  if (!header) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token header is not a JSON object');
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || !(ALGORITHMS as readonly string[]).includes(alg)) {
    throw tokenError(ErrorCodes.TOKEN_ALG, 'token algorithm is missing or not accepted');
  }
  for (const member of FORBIDDEN) {
    if (member in header) throw tokenError(ErrorCodes.TOKEN_HEADER, `token header member "${member}" is not accepted`);
  }
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw tokenError(ErrorCodes.TOKEN_HEADER, 'token header "kid" is missing or invalid');
  }
  if (!isAccessTokenType(typ)) throw tokenError(ErrorCodes.TOKEN_TYPE, 'token is not an access token (typ must be at+jwt)');
  return header as JwsHeader;
}
