/**
 * Shared helpers for the server's HTTP tests (excluded from the build by the `test-*.ts`
 * pattern). Everything goes through `app.inject()`; the helpers assert the happy path they
 * stand for, so a broken login fails the test that relies on it, not a later assertion.
 */
import { Buffer } from 'node:buffer';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export type Response = LightMyRequestResponse;

/** The issuer (and own origin) createTestApp configures. */
export const ISSUER = 'http://auth.test';
/** A passphrase with no composition at all, accepted by the password rules. */
export const PASSWORD = 'correct horse battery staple';
export const OTHER_PASSWORD = 'another long passphrase here';

let counter = 0;
/** A fresh email address per call, so tests sharing an app do not collide. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Parses JSON, failing the test with the raw body when it is not JSON. */
export function json<T = Record<string, unknown>>(res: Response): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new Error(`expected a JSON body, got ${res.statusCode} ${res.headers['content-type']}: ${res.body.slice(0, 200)}`);
  }
}

/** Asserts a `{ error, error_description }` answer with `status` (and `error` code when given); returns the body. */
export function expectError(res: Response, status: number, error?: string): { error: string; error_description: string } {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = json<{ error: string; error_description: string }>(res);
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(typeof body.error).toBe('string');
  expect(typeof body.error_description).toBe('string');
  if (error !== undefined) expect(body.error).toBe(error);
  return body;
}

/** Asserts an RFC 6750 401 for a token that was sent: `WWW-Authenticate: Bearer error="invalid_token"`. */
export function expectInvalidToken(res: Response): void {
  expectError(res, 401, 'invalid_token');
  expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
  expect(String(res.headers['www-authenticate'])).toContain('error="invalid_token"');
}

export interface Registered {
  id: string;
  email: string;
  password: string;
}

/** `POST /v1/users`, asserting 201. */
export async function register(app: FastifyInstance, email = uniqueEmail(), password = PASSWORD, name?: string): Promise<Registered> {
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email, password, ...(name ? { name } : {}) } });
  expect(res.statusCode, res.body).toBe(201);
  const body = json<{ id: string; email: string }>(res);
  return { id: body.id, email: body.email, password };
}

type Extra = Pick<InjectOptions, 'remoteAddress'> & { headers?: Record<string, string> };

/** `POST /v1/token` with the password grant (JSON). */
export function passwordGrant(app: FastifyInstance, username: string, password: string, extra: Extra = {}): Promise<Response> {
  return app.inject({
    method: 'POST',
    url: '/v1/token',
    payload: { grant_type: 'password', username, password },
    ...(extra.headers ? { headers: extra.headers } : {}),
    ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
  });
}

export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

/** Token login, asserting 200. */
export async function tokenLogin(app: FastifyInstance, user: { email: string; password: string }): Promise<Tokens> {
  const res = await passwordGrant(app, user.email, user.password);
  expect(res.statusCode, res.body).toBe(200);
  return json<Tokens>(res);
}

/** `POST /v1/token` with the refresh_token grant (JSON). */
export function refreshGrant(app: FastifyInstance, refreshToken: string): Promise<Response> {
  return app.inject({ method: 'POST', url: '/v1/token', payload: { grant_type: 'refresh_token', refresh_token: refreshToken } });
}

/** `POST /v1/sessions` (cookie login). */
export function sessionLogin(app: FastifyInstance, email: string, password: string, extra: Extra = {}): Promise<Response> {
  return app.inject({
    method: 'POST',
    url: '/v1/sessions',
    payload: { email, password },
    ...(extra.headers ? { headers: extra.headers } : {}),
    ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
  });
}

export interface CookieSession {
  /** The cookie's name (`tessera_session` or `__Host-tessera_session`). */
  name: string;
  /** `sid.secret`. */
  value: string;
  sid: string;
  csrf: string;
  /** Ready to send: `{ cookie: 'name=value' }`. */
  cookie: { cookie: string };
  /** Cookie plus the double-submit token, for state changes from a non-browser client. */
  csrfHeaders: { cookie: string; 'x-csrf-token': string };
  setCookie: string;
  userId: string;
}

/** The raw Set-Cookie header lines of a response. */
export function setCookies(res: Response): string[] {
  const h = res.headers['set-cookie'];
  if (h === undefined) return [];
  return Array.isArray(h) ? h : [h];
}

/** Cookie login, asserting 201 and a session cookie. */
export async function cookieLogin(
  app: FastifyInstance,
  user: { email: string; password: string },
  extra: Extra = {},
): Promise<CookieSession> {
  const res = await sessionLogin(app, user.email, user.password, extra);
  expect(res.statusCode, res.body).toBe(201);
  const line = setCookies(res).find((c) => /^(__Host-)?tessera_session=/.test(c));
  expect(line).toBeDefined();
  const [pair] = (line as string).split(';');
  const eq = (pair as string).indexOf('=');
  const name = (pair as string).slice(0, eq);
  const value = (pair as string).slice(eq + 1);
  const body = json<{ user: { id: string }; csrf_token: string }>(res);
  const cookie = `${name}=${value}`;
  return {
    name,
    value,
    sid: value.split('.')[0] as string,
    csrf: body.csrf_token,
    cookie: { cookie },
    csrfHeaders: { cookie, 'x-csrf-token': body.csrf_token },
    setCookie: line as string,
    userId: body.user.id,
  };
}

/** `GET /v1/me` with the given headers. */
export function me(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Response> {
  return app.inject({ method: 'GET', url: '/v1/me', headers });
}

/** A resource server's credentials for reading the revocation feed in tests. */
export const FEED_CLIENT = { id: 'feed-reader', secret: 'feed-reader-secret-0123456789' };
/** `createTestApp` environment that lets {@link FEED_CLIENT} read the feed. */
export const FEED_ENV = { TESSERA_RESOURCE_SERVERS: `${FEED_CLIENT.id}:${FEED_CLIENT.secret}` };
/** An `Authorization: Basic` header for `id` and `secret`. */
export const basicAuth = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
/** The headers of a feed request made as {@link FEED_CLIENT}. */
export const feedAuth = () => basicAuth(FEED_CLIENT.id, FEED_CLIENT.secret);

/** `GET /v1/revocations?since=` as {@link FEED_CLIENT} (the app needs {@link FEED_ENV}), asserting 200. */
export async function revocations(
  app: FastifyInstance,
  since = '0',
): Promise<{ events: { cursor: string; sid: string | null }[]; cursor: string }> {
  const res = await app.inject({ method: 'GET', url: `/v1/revocations?since=${encodeURIComponent(since)}`, headers: feedAuth() });
  expect(res.statusCode, res.body).toBe(200);
  return json(res);
}

/** Decodes a JWS payload without verifying it (tests only). */
export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}

/** Decodes a JWS protected header without verifying it (tests only). */
export function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8'));
}
