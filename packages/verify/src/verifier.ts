import { KeyObject } from 'node:crypto';
import {
  type AccessTokenClaims,
  ALGORITHMS,
  type Algorithm,
  AuthError,
  assertKeyFitsAlgorithm,
  type Verifier as CoreVerifier,
  createVerifier as createCoreVerifier,
  DEFAULT_LEEWAY,
  ErrorCodes,
  type KeyResolver,
  OptionError,
  type VerificationKey,
} from '@tessera/core';
import { type FeedStatus, RevocationFeed, type RevocationFeedOptions } from './feed/revocation-feed.js';
import { type JwksStatus, RemoteJwks, type RemoteJwksOptions } from './jwks/remote.js';
import { metricsText } from './metrics.js';

/** Options for {@link createVerifier}. Validated at construction: a missing issuer or audience throws then, not at the first request. */
export interface ResourceVerifierOptions {
  /** The exact `iss` to accept (the auth server's issuer URL). Required. */
  issuer: string;
  /** This service's audience; `aud` must contain it. Required. */
  audience: string | readonly string[];
  /** The issuer's JWKS URL. One of `jwksUri` and `keys` is required. */
  jwksUri?: string;
  /** Fixed keys instead of a remote JWKS (tests, single-service HS256). */
  keys?: Iterable<VerificationKey> | KeyResolver;
  /** Algorithms accepted. Default ES256, EdDSA, RS256, PS256 (HS256 only with fixed keys). */
  algorithms?: readonly Algorithm[];
  /** Clock leeway in seconds. Default 30, at most 300. */
  leeway?: number;
  /** Verified-token cache: `{ max }` (default 10 000 entries) or `false`. */
  cache?: { max?: number } | false;
  /** Remote JWKS tuning (cache bounds, cooldown, timeout, `cacheFile` persistence). */
  jwks?: Omit<RemoteJwksOptions, 'url' | 'algorithms' | 'clock'>;
  /**
   * Revocation feed: `true` for SSE from the issuer, or options (e.g. `{ source: 'redis', redis: url }`,
   * `failMode`, `maxOutageMs`). Default: none (tokens are valid until they expire).
   */
  revocations?: boolean | Omit<RevocationFeedOptions, 'issuer' | 'clock' | 'keepPastUntilS'>;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** A verifier for a resource service. */
export interface ResourceVerifier {
  /**
   * Verifies an access token locally (no call to the auth server on the hot path).
   * An unknown `kid` triggers one rate-limited JWKS refetch. Throws `AuthError` with a `code`.
   */
  verify(token: string): Promise<Readonly<AccessTokenClaims>>;
  /**
   * {@link verify} without a promise whenever the answer is known at once: a cache hit, a full
   * verification with a loaded key, every refusal (thrown). Only a token naming a key this
   * service has not loaded yet returns a promise, which settles after the one rate-limited JWKS
   * refetch and one more try, so such a token is verified twice in all, never more. The adapters
   * call this and await only what is a promise.
   *
   * @example
   * const claims = verifier.verifyNow(token);
   * const ready = claims instanceof Promise ? await claims : claims;
   */
  verifyNow(token: string): Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>>;
  /** Loads the JWKS (from file, then network) and starts the revocation feed. Call before serving; verify also works without it. */
  ready(): Promise<void>;
  /** JWKS state, or null with fixed keys. */
  jwksStatus(): JwksStatus | null;
  /** Revocation-feed state, or null without a feed. */
  feedStatus(): FeedStatus | null;
  /** Prometheus text for the feed lag, connection state and JWKS state. */
  metrics(): string;
  /** Stops the feed. */
  close(): void;
}

const ASYMMETRIC: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

function fixedResolver(keys: Iterable<VerificationKey> | KeyResolver): KeyResolver {
  if (typeof (keys as KeyResolver).get === 'function' && !(Symbol.iterator in keys)) return keys as KeyResolver;
  const given = keys instanceof Map ? (keys as Map<string, VerificationKey>).values() : (keys as Iterable<VerificationKey>);
  const map = new Map<string, VerificationKey>();
  for (const k of given) {
    checkFixedKey(k);
    map.set(k.kid, k);
  }
  if (keys instanceof Map) {
    for (const [kid, k] of keys as Map<string, VerificationKey>) {
      if (kid !== k.kid) throw new OptionError(`"keys" maps "${kid}" to the key "${k.kid}"`);
    }
    return keys as KeyResolver;
  }
  return map;
}

/** A fixed key must be usable for its pinned algorithm: checked here, so a bad one fails at construction, not per request. */
function checkFixedKey(k: VerificationKey): void {
  if (k === null || typeof k !== 'object' || typeof k.kid !== 'string' || k.kid === '')
    throw new OptionError('every key in "keys" needs a kid');
  if (!(ALGORITHMS as readonly unknown[]).includes(k.alg))
    throw new OptionError(`key "${k.kid}": "alg" must be one of ${ALGORITHMS.join(', ')}`);
  if (!(k.key instanceof KeyObject)) throw new OptionError(`key "${k.kid}": "key" must be a KeyObject`);
  try {
    assertKeyFitsAlgorithm(k.key, k.alg);
  } catch (err) {
    throw new OptionError(`key "${k.kid}": ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Creates a verifier for a resource service.
 *
 * @example
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example', audience: 'orders',
 *   jwksUri: 'https://auth.example/.well-known/jwks.json', revocations: true,
 * });
 * await verifier.ready();
 * const claims = await verifier.verify(token);
 */
export function createVerifier(options: ResourceVerifierOptions): ResourceVerifier {
  if (options === null || typeof options !== 'object') throw new OptionError('verifier options are required');
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new OptionError('"issuer" is required');
  if ((options.jwksUri == null) === (options.keys == null)) throw new OptionError('pass exactly one of "jwksUri" and "keys"');
  if (options.jwksUri != null && typeof options.jwksUri !== 'string') throw new OptionError('"jwksUri" must be a string');
  if (options.keys != null && typeof options.keys !== 'object') throw new OptionError('"keys" must be verification keys or a key resolver');
  const clock = options.clock ?? Date.now;
  const algorithms = options.algorithms ?? ASYMMETRIC;
  // A JWKS never supplies an HMAC secret (anyone could read it): such a verifier could accept nothing.
  if (options.jwksUri != null && Array.isArray(algorithms) && algorithms.length > 0 && algorithms.every((a) => a === 'HS256')) {
    throw new OptionError('"algorithms" allows only HS256, which a JWKS never supplies: pass the secret in "keys"');
  }
  const jwks = options.jwksUri != null ? new RemoteJwks({ ...options.jwks, url: options.jwksUri, algorithms, clock }) : null;
  const keys = jwks ?? fixedResolver(options.keys as Iterable<VerificationKey> | KeyResolver);
  const feedOptions = options.revocations === true ? {} : options.revocations || null;
  // Rules outlive their `until` by this verifier's leeway: it accepts a token that long past its `exp`.
  const keepPastUntilS = options.leeway ?? DEFAULT_LEEWAY;
  const feed = feedOptions ? new RevocationFeed({ ...feedOptions, issuer: options.issuer, clock, keepPastUntilS }) : null;
  const core: CoreVerifier = createCoreVerifier({
    issuer: options.issuer,
    audience: options.audience,
    keys,
    algorithms,
    ...(options.leeway !== undefined ? { leeway: options.leeway } : {}),
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    ...(feed ? { isRevoked: feed.isRevoked } : {}),
    clock,
  });
  let started: Promise<void> | null = null;

  function verifyWithKeysAtHand(token: string): Readonly<AccessTokenClaims> {
    if (feed?.failingClosed()) throw new AuthError(ErrorCodes.REVOCATION_UNAVAILABLE, 'revocation feed unavailable');
    return core.verify(token);
  }

  function verifyNow(token: string): Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>> {
    try {
      return verifyWithKeysAtHand(token);
    } catch (err) {
      if (!(jwks && err instanceof AuthError && err.code === ErrorCodes.TOKEN_KEY)) throw err;
      // A key we have not seen yet (rotation): refetch once, rate-limited, then one more try.
      return jwks.refreshForUnknownKid().then((refreshed) => {
        if (!refreshed) throw err;
        return verifyWithKeysAtHand(token); // the feed may have failed closed during the refetch
      });
    }
  }

  return {
    verifyNow,
    async verify(token) {
      return verifyNow(token);
    },
    ready() {
      started ??= (async () => {
        await Promise.all([jwks?.load(), feed?.start()]);
      })();
      return started;
    },
    jwksStatus: () => jwks?.status() ?? null,
    feedStatus: () => feed?.status() ?? null,
    metrics: () => metricsText({ feed: feed?.status(), jwks: jwks?.status(), now: clock() }),
    close() {
      feed?.close();
    },
  };
}
