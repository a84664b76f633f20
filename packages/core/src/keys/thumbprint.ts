import { calculateJwkThumbprint, type JWK } from 'jose';

/** The RFC 7638 SHA-256 thumbprint of a JWK, base64url: Tessera's `kid`. */
export function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}
