/** The access-token claims the client reads; it never verifies them (the servers do). */
export interface AccessClaims {
  sub: string;
  exp: number;
  iat: number;
  sid?: string;
  email?: string;
  name?: string;
}

function base64UrlDecode(segment: string): string {
  const base64 = segment
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(segment.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * The payload of a JWS compact access token, or null when it is not one the client can use. A
 * nested (encrypted) token cannot be read: the client then goes by `expires_in` alone.
 *
 * @example
 * readClaims(accessToken)?.exp // seconds since the epoch, server clock
 */
export function readClaims(token: string): AccessClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1])) as Partial<AccessClaims>;
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return null;
    return claims as AccessClaims;
  } catch {
    return null;
  }
}
