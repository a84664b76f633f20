import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random id: 128 bits, base64url (22 characters). */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** A random secret: 256 bits, base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

// One-shot `crypto.hash` (Node ≥ 20.12) skips building a Hash object, and asking it for hex
// skips a Buffer (an off-heap allocation): together most of the cost of hashing a short secret
// on every cookie-authenticated request. Older Node uses createHash.
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

/** Hex SHA-256, what stores keep instead of secrets. */
export function sha256Hex(value: string): string {
  return oneShotHash ? oneShotHash('sha256', value, 'hex') : createHash('sha256').update(value).digest('hex');
}

/**
 * True when SHA-256 of `secret` is `expectedHex` (a stored {@link sha256Hex}). The two hex
 * strings are compared in constant time: every character is visited and the differences are
 * OR-ed together, with no early exit, so the time does not depend on where they first differ.
 */
export function sha256Matches(secret: string, expectedHex: string): boolean {
  const actual = sha256Hex(secret);
  if (expectedHex.length !== actual.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= actual.charCodeAt(i) ^ expectedHex.charCodeAt(i);
  return diff === 0;
}

/**
 * Compares two strings in constant time, their lengths included: both are hashed first and the
 * fixed-size digests compared, so neither an early exit on a length mismatch nor the comparison
 * itself tells a prober how long the secret is or how much of it matched.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

const ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** `rt_` + 22-character id + 43-character secret. */
export const REFRESH_TOKEN_PATTERN = /^rt_[A-Za-z0-9_-]{65}$/;

/** Splits a refresh token into id and secret, or null when it is not one of ours. */
export function parseRefreshToken(token: unknown): { id: string; secret: string } | null {
  if (typeof token !== 'string' || !REFRESH_TOKEN_PATTERN.test(token)) return null;
  return { id: token.slice(3, 25), secret: token.slice(25) };
}

export function formatRefreshToken(id: string, secret: string): string {
  return `rt_${id}${secret}`;
}

/** Splits a session cookie `sid.secret`, or null. */
export function parseSessionCookie(value: unknown): { sid: string; secret: string } | null {
  if (typeof value !== 'string' || value.length !== 66) return null;
  const sid = value.slice(0, 22);
  const secret = value.slice(23);
  if (value[22] !== '.' || !ID.test(sid) || !SECRET.test(secret)) return null;
  return { sid, secret };
}

/**
 * Server-side secrets derived from the key-encryption key: the KEK itself encrypts private
 * JWKs at rest (AES-256-GCM, `kid` as associated data), and a derived key makes each refresh
 * token's successor a pure function of the token, so two tabs refreshing with one token at
 * once receive the same successor without the store ever holding a plaintext token. Another
 * derived key makes a cookie session's CSRF token a function of its id, so no store keeps it.
 * Everything here follows from the KEK alone: every node sharing `TESSERA_KEK` (or the data
 * directory's `kek` file) derives the same values, before and after a restart.
 */
export class ServerSecrets {
  readonly #kek: Buffer;
  readonly #rotationKey: Buffer;
  readonly #csrfKey: Buffer;

  constructor(kek: Buffer) {
    if (kek.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    this.#kek = kek;
    this.#rotationKey = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera refresh rotation v1', 32));
    // A key of its own: a CSRF token is handed to the client, and must reveal nothing about
    // the key that derives refresh tokens.
    this.#csrfKey = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera csrf token v1', 32));
  }

  /**
   * The double-submit CSRF token of cookie session `sid`: HMAC-SHA-256 under a key derived from
   * the KEK, base64url (43 characters). Unguessable without the key even though the session id
   * is not secret (it is listed in `GET /v1/sessions`), and never stored.
   */
  csrfToken(sid: string): string {
    return createHmac('sha256', this.#csrfKey).update(sid).digest('base64url');
  }

  /** Encrypts `plaintext` bound to `context`: `v1.iv.ciphertext.tag`. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Decrypts what {@link seal} made; throws when the key, context or data is wrong. */
  open(sealed: string, context: string): string {
    const [v, iv, ct, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('sealed value has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** The successor of refresh token (id, secret): deterministic, unguessable without the server key. */
  successor(id: string, secret: string): { id: string; secret: string } {
    const mac = createHmac('sha256', this.#rotationKey).update(`${id}.${secret}`).digest();
    const idMac = createHmac('sha256', this.#rotationKey).update(`id.${id}.${secret}`).digest();
    return { id: idMac.subarray(0, 16).toString('base64url'), secret: mac.toString('base64url') };
  }
}
