/**
 * Shared fixtures for the core test suite (excluded from the build by the `test-*.ts` pattern).
 * Hostile tokens are built here by hand, with Buffer base64url and node:crypto, never with the
 * code under test, so a bug in the issuer cannot hide a bug in the verifier.
 */
import { Buffer } from 'node:buffer';
import { constants, createHmac, type KeyObject, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import {
  type AccessTokenClaims,
  type Algorithm,
  AuthError,
  createVerifier,
  type ErrorCode,
  generateSigningKey,
  type SigningKey,
  type Verifier,
  type VerifierOptions,
} from './index.js';

/** The frozen instant every test runs at: 2025-01-01T00:00:00Z, in milliseconds. */
export const NOW_MS = Date.UTC(2025, 0, 1);
/** {@link NOW_MS} in seconds. */
export const NOW = NOW_MS / 1000;
export const ISSUER = 'https://auth.example';
export const AUDIENCE = 'api';
/** Hostile inputs must be refused fast: no fetch, no catastrophic backtracking, no deep recursion. */
export const QUICK_MS = 250;

/** One fresh signing key per algorithm. */
export async function generateKeys(): Promise<Record<Algorithm, SigningKey>> {
  const [ES256, EdDSA, RS256, PS256, HS256] = await Promise.all([
    generateSigningKey('ES256'),
    generateSigningKey('EdDSA'),
    generateSigningKey('RS256'),
    generateSigningKey('PS256'),
    generateSigningKey('HS256'),
  ]);
  return { ES256, EdDSA, RS256, PS256, HS256 };
}

/** A verifier over `keys` at the frozen clock. */
export function verifierFor(keys: Iterable<SigningKey>, options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: new Map([...keys].map((k) => [k.kid, k])),
    clock: () => NOW_MS,
    ...options,
  });
}

/** Valid access-token claims at {@link NOW}, with overrides (`undefined` deletes a claim). */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'user-1',
    aud: AUDIENCE,
    exp: NOW + 600,
    iat: NOW,
    jti: 'jti-1',
    sid: 'sid-1',
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
}

/** A header as Tessera's issuer writes it, with overrides (`undefined` deletes a member). */
export function header(key: { alg: string; kid: string }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...overrides };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
}

/** base64url of a JSON value, a raw string (taken as UTF-8) or raw bytes. */
export function b64(value: unknown): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** Signs `input` the way RFC 7518 says `alg` signs, with plain node:crypto. */
export function rawSign(alg: string, input: string, key: KeyObject | Uint8Array | string): Buffer {
  const data = Buffer.from(input, 'latin1');
  switch (alg) {
    case 'HS256':
      return createHmac('sha256', key as KeyObject)
        .update(data)
        .digest();
    case 'ES256':
      return sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, key as KeyObject);
    case 'RS256':
      return sign('sha256', data, key as KeyObject);
    case 'PS256':
      return sign('sha256', data, { key: key as KeyObject, ...PSS });
    default:
      throw new Error(`rawSign: no ${alg}`);
  }
}

/**
 * A compact JWS from already-encoded segments, signed with `signer` under `alg`
 * (default: the header's own alg, with the signer's private key).
 */
export function signSegments(h: string, p: string, signer: SigningKey, alg: string = signer.alg): string {
  const input = `${h}.${p}`;
  return `${input}.${rawSign(alg, input, signer.privateKey).toString('base64url')}`;
}

/** A compact JWS of `headerValue` and `payloadValue` (JSON values, raw strings or bytes), validly signed by `signer`. */
export function forge(headerValue: unknown, payloadValue: unknown, signer: SigningKey): string {
  return signSegments(b64(headerValue), b64(payloadValue), signer);
}

/** A valid token for `key` with claim overrides. */
export function token(
  key: SigningKey,
  claimOverrides: Record<string, unknown> = {},
  headerOverrides: Record<string, unknown> = {},
): string {
  return forge(header(key, headerOverrides), claims(claimOverrides), key);
}

/** Runs `fn`, returns what it threw (or fails the test when nothing was thrown). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return expect.fail('expected a throw');
}

/** Long token segments, which no error message may repeat. */
function segmentsOf(tokenText: unknown): string[] {
  return typeof tokenText === 'string' ? tokenText.split('.').filter((s) => s.length >= 16) : [];
}

/**
 * Asserts `verifier.verify(tokenText)` throws an `AuthError` with `code`, within {@link QUICK_MS},
 * and that the message quotes no part of the token.
 */
export function expectRefused(verifier: Verifier, tokenText: unknown, code: ErrorCode): AuthError {
  const start = performance.now();
  const err = caught(() => verifier.verify(tokenText as string));
  const elapsed = performance.now() - start;
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  expect(elapsed).toBeLessThan(QUICK_MS);
  for (const segment of segmentsOf(tokenText)) {
    expect((err as AuthError).message).not.toContain(segment.slice(0, 16));
  }
  return err as AuthError;
}

/** Async twin of {@link expectRefused} for `verifyAsync`. */
export async function expectRefusedAsync(verifier: Verifier, tokenText: string, code: ErrorCode): Promise<AuthError> {
  const start = performance.now();
  const err = await verifier.verifyAsync(tokenText).then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
  expect(performance.now() - start).toBeLessThan(QUICK_MS);
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  for (const segment of segmentsOf(tokenText)) expect((err as AuthError).message).not.toContain(segment.slice(0, 16));
  return err as AuthError;
}

/** Asserts a sync call throws an `AuthError` with `code`. */
export function expectCode(fn: () => unknown, code: ErrorCode): AuthError {
  const err = caught(fn);
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  return err as AuthError;
}

/** Asserts a promise rejects with an `AuthError` with `code`. */
export async function expectCodeAsync(promise: Promise<unknown>, code: ErrorCode): Promise<AuthError> {
  const err = await promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  return err as AuthError;
}

/** Typed view of verified claims for assertions. */
export type Claims = Readonly<AccessTokenClaims>;
