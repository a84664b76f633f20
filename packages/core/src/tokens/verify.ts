import { Buffer } from 'node:buffer';
import { KeyObject } from 'node:crypto';
import { type CachedToken, tokenCacheKey, VerifiedTokenCache } from '../cache/verified-cache.js';
import { ErrorCodes, OptionError, TokenExpiredError, TokenRevokedError, tokenError } from '../errors.js';
import { decodeAsciiSegment, isCanonicalBase64url } from '../lib/base64url.js';
import { parseJsonObject } from '../lib/json.js';
import { type AccessTokenClaims, ALGORITHMS, type Algorithm, type KeyResolver } from '../types.js';
import { type ClaimRules, checkClaims } from './claims.js';
import { assertEncryptionKey, type DecryptionKey, decryptToken } from './encrypt.js';
import { type JwsHeader, parseHeader } from './header.js';
import { verifyBytes } from './signature.js';

/** Default cap on a token's length, checked before anything is decoded. */
export const DEFAULT_MAX_TOKEN_SIZE = 8192;
/** Default clock leeway in seconds. */
export const DEFAULT_LEEWAY = 30;
/** Largest leeway accepted. */
export const MAX_LEEWAY = 300;
/** Default bound of the verified-token cache. */
export const DEFAULT_CACHE_SIZE = 10_000;

/** Says whether a verified token has been revoked (by `sid`, `sub` or `jti`). Runs on every verification, cached or not. */
export type RevocationCheck = (claims: Readonly<AccessTokenClaims>) => boolean;

/** Options for {@link createVerifier}. Validated when the verifier is created. */
export interface VerifierOptions {
  /** The exact `iss` to accept. Required. */
  issuer: string;
  /** The audience (or audiences) this verifier serves; `aud` must contain one. Required. */
  audience: string | readonly string[];
  /** Where keys come from: a `KeySet`, a `Map<kid, VerificationKey>`, or any resolver. Required. */
  keys: KeyResolver;
  /** Algorithms accepted at all, on top of each key's pin. Default: all of ES256, EdDSA, RS256, PS256, HS256. */
  algorithms?: readonly Algorithm[];
  /** Clock leeway in seconds for `exp`, `nbf`, `iat`. Default 30, at most 300. */
  leeway?: number;
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenSize?: number;
  /** Verified-token cache: `{ max }` entries (default 10 000), or `false` for none. A token is admitted on its second verification. */
  cache?: { max?: number } | false;
  /** Revocation hook, run on every cache hit and miss. Default: nothing is revoked. */
  isRevoked?: RevocationCheck;
  /** Key for nested (encrypted) tokens, used by {@link Verifier.verifyAsync}. Default: JWEs are refused. */
  decryption?: DecryptionKey;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** A configured access-token verifier. */
export interface Verifier {
  /**
   * Verifies a compact JWS access token and returns its claims (frozen when the verifier has a
   * cache, since cached claims are shared by every caller presenting the same token).
   * Synchronous: no I/O ever happens here. Throws a `TokenError` whose `code` says why.
   */
  verify(token: string): Readonly<AccessTokenClaims>;
  /** Like {@link verify}, and also accepts nested tokens (JWE around a JWS) when `decryption` is set. */
  verifyAsync(token: string): Promise<Readonly<AccessTokenClaims>>;
  /** Forgets every cached verification (e.g. after a key was withdrawn). */
  clearCache(): void;
  /** Entries in the verified-token cache. */
  readonly cacheSize: number;
}

// One native pass: three non-empty base64url segments and nothing else (no padding, whitespace, '+' or '/').
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HEADER_CACHE_MAX = 64;

/**
 * Cache admission: a token enters the verified-token cache on its second verification, not its
 * first. Most tokens a busy service sees once (a client per token) would otherwise churn the
 * cache, evicting tokens that do repeat and filling the old generation with claims objects the
 * garbage collector must then sweep. Remembers a 32-bit fingerprint per slot in a fixed array:
 * no allocation, and a collision only admits a token early, which is harmless.
 */
class Doorkeeper {
  #slots = new Uint32Array(1 << 16);

  /** True when this hash was seen before (recently enough to still hold its slot). */
  admit(hash: string): boolean {
    // The hash is base64url SHA-256: each character carries ~6 random bits (low 6 bits of its code).
    const c = (k: number) => hash.charCodeAt(k) & 63;
    const fp = ((c(0) << 26) | (c(1) << 20) | (c(2) << 14) | (c(3) << 8) | (c(4) << 2) | (c(5) & 3)) >>> 0;
    const i = (c(6) << 10) | (c(7) << 4) | (c(8) & 15);
    if (this.#slots[i] === fp) return true;
    this.#slots[i] = fp;
    return false;
  }
}

function validateOptions(options: VerifierOptions) {
  if (options === null || typeof options !== 'object') throw new OptionError('verifier options are required');
  const { issuer, audience, keys } = options;
  if (typeof issuer !== 'string' || issuer === '') throw new OptionError('"issuer" is required');
  const audiences = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a !== '')) {
    throw new OptionError('"audience" is required (a string or non-empty array of strings)');
  }
  if (!keys || typeof keys.get !== 'function') throw new OptionError('"keys" must be a key resolver (KeySet or Map)');
  const leeway = options.leeway ?? DEFAULT_LEEWAY;
  if (!Number.isFinite(leeway) || leeway < 0 || leeway > MAX_LEEWAY) throw new OptionError(`"leeway" must be 0..${MAX_LEEWAY} seconds`);
  const maxTokenSize = options.maxTokenSize ?? DEFAULT_MAX_TOKEN_SIZE;
  if (!Number.isInteger(maxTokenSize) || maxTokenSize < 64) throw new OptionError('"maxTokenSize" must be an integer ≥ 64');
  const algorithms = options.algorithms ?? ALGORITHMS;
  if (algorithms.length === 0 || !algorithms.every((a) => (ALGORITHMS as readonly string[]).includes(a))) {
    throw new OptionError(`"algorithms" must be a non-empty subset of ${ALGORITHMS.join(', ')}`);
  }
  const cacheMax = options.cache === false ? 0 : (options.cache?.max ?? DEFAULT_CACHE_SIZE);
  if (!Number.isInteger(cacheMax) || cacheMax < 0) throw new OptionError('"cache.max" must be a non-negative integer');
  if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function') throw new OptionError('"isRevoked" must be a function');
  const { decryption } = options;
  if (decryption !== undefined) {
    // A key that cannot decrypt must fail here, not as ERR_TOKEN_DECRYPT on every request.
    if (typeof decryption !== 'object' || decryption === null || !(decryption.key instanceof KeyObject)) {
      throw new OptionError('"decryption" must be { alg, key } with a KeyObject key');
    }
    assertEncryptionKey(decryption, 'decrypt');
  }
  const rules: ClaimRules = { issuer, audience: audiences, leeway };
  return { rules, keys, maxTokenSize, algorithms: new Set<string>(algorithms), cacheMax };
}

/**
 * Creates a strict access-token verifier. Each step is its own check: size cap → compact
 * syntax → header (cached by its exact segment) → algorithm allowed → `kid` lookup → the
 * key's pinned algorithm equals `alg` → signature → strict payload → claims → revocation.
 * Verified tokens are cached by SHA-256 until `exp`; the revocation hook runs on every hit.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://auth.example', audience: 'api', keys: keySet });
 * const claims = verifier.verify(token); // throws TokenError with .code
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const { rules, keys, maxTokenSize, algorithms, cacheMax } = validateOptions(options);
  const clock = options.clock ?? Date.now;
  const isRevoked = options.isRevoked;
  const decryption = options.decryption;
  const cache = cacheMax > 0 ? new VerifiedTokenCache(cacheMax) : undefined;
  const seen = cache ? new Doorkeeper() : undefined;
  // Headers that passed every check, by their exact segment. A key's tokens all share one
  // header segment, so the last one seen is compared first: equal strings, no hashing.
  const headers = new Map<string, JwsHeader>();
  let lastSegment: string | undefined;
  let lastHeader: JwsHeader | undefined;

  /** The checked header of a segment seen before, or undefined. */
  function knownHeader(segment: string): JwsHeader | undefined {
    // (A slice compared with `===` is several times faster than `token.startsWith(lastSegment)`.)
    if (segment === lastSegment) return lastHeader;
    const h = headers.get(segment);
    if (h !== undefined) {
      lastSegment = segment;
      lastHeader = h;
    }
    return h;
  }

  /** Parses and checks a new (canonical) header segment, and remembers it. */
  function newHeader(segment: string): JwsHeader {
    const h = parseHeader(segment);
    if (headers.size >= HEADER_CACHE_MAX) headers.clear();
    headers.set(segment, h);
    lastSegment = segment;
    lastHeader = h;
    return h;
  }

  function checkRevoked(claims: Readonly<AccessTokenClaims>): void {
    if (isRevoked?.(claims)) throw new TokenRevokedError();
  }

  function verifyUncached(token: string): CachedToken {
    const dot1 = token.indexOf('.');
    const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot2 < 0) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token is not a compact JWS');
    // A known header segment passed every syntax check when first seen (an empty one never does).
    const segment = token.slice(0, dot1);
    const known = knownHeader(segment);
    if (known === undefined) {
      if (!COMPACT_JWS.test(token)) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token is not a compact JWS');
      if (!isCanonicalBase64url(segment)) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token segment is not canonical base64url');
    }
    // The whole token as bytes, in one pass: UTF-8, so that any non-ASCII character (which a
    // latin1 or base64 pass would silently truncate to an ASCII one) changes the length. With no
    // '+' or '/' either, an exact byte count per segment proves payload and signature canonical.
    const bytes = Buffer.from(token, 'utf8');
    if (bytes.length !== token.length || token.indexOf('+', dot1) !== -1 || token.indexOf('/', dot1) !== -1) {
      throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token is not a compact JWS');
    }
    const payloadBytes = decodeAsciiSegment(token, dot1 + 1, dot2);
    const sig = decodeAsciiSegment(token, dot2 + 1, token.length);
    if (payloadBytes === undefined || sig === undefined) {
      throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token segment is not canonical base64url');
    }
    const h = known ?? newHeader(segment);
    if (!algorithms.has(h.alg)) throw tokenError(ErrorCodes.TOKEN_ALG, 'token algorithm is not accepted');
    const key = keys.get(h.kid);
    if (key === undefined) throw tokenError(ErrorCodes.TOKEN_KEY, 'no key matches the token "kid"');
    if (key.alg !== h.alg) throw tokenError(ErrorCodes.TOKEN_ALG, "token algorithm differs from the key's pinned algorithm");
    if (!verifyBytes(bytes.subarray(0, dot2), sig, key)) {
      throw tokenError(ErrorCodes.TOKEN_SIGNATURE, 'token signature is invalid');
    }
    const payload = parseJsonObject(payloadBytes);
    if (payload === undefined) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token payload is not a JSON object');
    const checked = checkClaims(payload, rules, clock() / 1000);
    // Cached claims are one object handed to every caller that presents the token: frozen, so
    // no caller can change what the next one sees. Without a cache each caller has its own.
    const claims = cache === undefined ? checked : Object.freeze(checked);
    checkRevoked(claims);
    return { claims, key };
  }

  function fromCache(hash: string): Readonly<AccessTokenClaims> | undefined {
    const entry = (cache as VerifiedTokenCache).get(hash);
    if (entry === undefined) return undefined;
    // A withdrawn or replaced key ends its tokens' cache entries at once.
    if (keys.get(entry.key.kid) !== entry.key) {
      cache?.delete(hash);
      return undefined;
    }
    if (entry.claims.exp <= clock() / 1000 - rules.leeway) {
      cache?.delete(hash);
      throw new TokenExpiredError(entry.claims.exp);
    }
    checkRevoked(entry.claims);
    return entry.claims;
  }

  function guard(token: unknown): asserts token is string {
    if (typeof token !== 'string') throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'token must be a string');
    if (token.length > maxTokenSize) throw tokenError(ErrorCodes.TOKEN_TOO_LARGE, 'token exceeds the size limit');
  }

  const verifier: Verifier = {
    verify(token: string) {
      guard(token);
      if (cache === undefined) return verifyUncached(token).claims;
      const hash = tokenCacheKey(token);
      const hit = fromCache(hash);
      if (hit !== undefined) return hit;
      const verified = verifyUncached(token);
      if (seen?.admit(hash)) cache.set(hash, verified);
      return verified.claims;
    },
    async verifyAsync(token: string) {
      guard(token);
      if (!COMPACT_JWE.test(token)) return verifier.verify(token);
      if (decryption === undefined) throw tokenError(ErrorCodes.TOKEN_MALFORMED, 'encrypted tokens are not accepted here');
      const hash = cache ? tokenCacheKey(token) : '';
      const hit = cache ? fromCache(hash) : undefined;
      if (hit !== undefined) return hit;
      const inner = await decryptToken(token, decryption);
      guard(inner);
      const verified = verifyUncached(inner);
      if (seen?.admit(hash)) cache?.set(hash, verified);
      return verified.claims;
    },
    clearCache() {
      cache?.clear();
    },
    get cacheSize() {
      return cache?.size ?? 0;
    },
  };
  // Named rather than `this`, so a detached `const { verifyAsync } = verifier` still works.
  return verifier;
}
