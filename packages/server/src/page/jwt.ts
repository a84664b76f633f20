/** A JWS compact token's two readable parts. The page only shows them: verifying is the servers' job. */
export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** How a token fits where it may travel: one cookie, or one request header. */
export interface Budget {
  /** What the token rides in, for people: "a cookie", "an Authorization header". */
  label: string;
  /** Bytes the token takes there, with what always goes along (`Authorization: Bearer `). */
  used: number;
  limit: number;
  /** `used / limit`, not capped: above 1 the token does not fit. */
  ratio: number;
}

/**
 * The browsers' per-cookie limit (name, value and attributes together; RFC 6265 §6.1 asks for at
 * least 4096 bytes, and that is what browsers give).
 */
export const COOKIE_LIMIT = 4096;
/**
 * What many proxies and servers allow for one request header line by default (nginx's
 * `large_client_header_buffers` 8k, Apache's `LimitRequestFieldSize`); Node's default is larger.
 */
export const HEADER_LIMIT = 8192;
const BEARER_PREFIX = 'Authorization: Bearer ';

function base64UrlJson(segment: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) return null;
  const base64 = segment
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(segment.length / 4) * 4, '=');
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The header and claims of a JWS compact token, or null when the token cannot be read: an
 * encrypted (JWE, five parts) token hides its claims from the page by design.
 *
 * @example
 * decodeToken(accessToken)?.claims.exp // seconds since the epoch
 */
export function decodeToken(token: string): DecodedToken | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const header = base64UrlJson(parts[0] ?? '');
  const claims = base64UrlJson(parts[1] ?? '');
  return header && claims ? { header, claims } : null;
}

/** Whether the token is a JWE (five dot-separated parts): readable by its audience only. */
export function isEncrypted(token: string): boolean {
  return token.split('.').length === 5;
}

/**
 * The token's size against the two places it must fit: a cookie (a BFF or SSR setup keeping it
 * there) and an `Authorization` header. A compact token is ASCII, so characters are bytes.
 */
export function budgets(token: string, cookieName = 'access_token'): Budget[] {
  const cookie = cookieName.length + 1 + token.length;
  const header = BEARER_PREFIX.length + token.length;
  return [
    { label: 'a cookie', used: cookie, limit: COOKIE_LIMIT, ratio: cookie / COOKIE_LIMIT },
    { label: 'an Authorization header', used: header, limit: HEADER_LIMIT, ratio: header / HEADER_LIMIT },
  ];
}
