/**
 * Reads an `Authorization` header value for a Bearer token (RFC 6750 §2.1): the token; `null`
 * when there is no Bearer credential (no value, or another scheme such as `Basic`, which
 * RFC 6750 §3.1 answers like no credentials at all); `false` when it is malformed (`Bearer`
 * without a token, or two values joined by a comma, as Fetch's `Headers` joins repeated headers:
 * no token has a comma in it). The scheme name is case-insensitive (RFC 7235 §2.1).
 */
export function bearerCredential(value: string | undefined): string | null | false {
  if (value === undefined || value === '') return null;
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).trim().toLowerCase();
  if (scheme !== 'bearer') return null;
  const token = space < 0 ? '' : value.slice(space + 1).trim();
  return token === '' || token.includes(',') ? false : token;
}
