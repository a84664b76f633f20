/**
 * Shared helpers for the @tessera/verify tests (excluded from the build by the `test-*.ts`
 * pattern): a hand-moved clock, bounded polling, signing keys with their JWKs, a JWKS server
 * on a real socket that can be switched to fail, hang or refuse, RFC 6750 refusal checks, and
 * the Redis reachability rule (skip outside CI, fail in CI). The real auth server is in
 * `test-auth-server.ts`, so only the tests that need it load it.
 */
import { Buffer } from 'node:buffer';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import {
  type AccessTokenInput,
  type Algorithm,
  AuthError,
  createIssuer,
  exportPublicJwk,
  generateSigningKey,
  type SigningKey,
  type WireEvent,
} from '@tessera/core';
import { expect } from 'vitest';
import { createVerifier } from './verifier.js';

/** The frozen instant the unit tests run at. */
export const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
export const ISSUER = 'https://auth.example';
export const AUDIENCE = 'orders';

/** A clock tests move by hand. */
export interface ManualClock {
  (): number;
  now: number;
  advance(ms: number): void;
}

export function manualClock(start = NOW_MS): ManualClock {
  const clock = (() => clock.now) as ManualClock;
  clock.now = start;
  clock.advance = (ms) => {
    clock.now += ms;
  };
  return clock;
}

/**
 * Calls `check` until it returns a truthy value (or stops throwing), at most `timeoutMs`
 * of wall time. Only for waiting on real sockets; everything else runs on a frozen clock.
 */
export async function poll<T>(check: () => T | Promise<T>, what: string, timeoutMs = 3_000): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The `code` of what `fn` throws (or rejects with); fails when it does not throw an AuthError. */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  throw new Error('expected an AuthError, got success');
}

/** A signing key, its public JWK and an issuer signing with it. */
export interface TestKey {
  key: SigningKey;
  jwk: Record<string, unknown>;
  /** A token for `sub` (default `user-1`) from {@link ISSUER} to {@link AUDIENCE}. */
  issue(input?: Partial<AccessTokenInput>): string;
}

export async function testKey(clock: () => number, alg: Algorithm = 'ES256', issuer = ISSUER): Promise<TestKey> {
  const key = await generateSigningKey(alg);
  const jwk = alg === 'HS256' ? {} : ((await exportPublicJwk(key)) as Record<string, unknown>);
  const signer = createIssuer({ issuer, audience: AUDIENCE, signingKey: key, clock });
  return { key, jwk, issue: (input = {}) => signer.issue({ sub: 'user-1', sid: 'sid-1', ...input }).token };
}

/** base64url of a JSON value. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A JWKS endpoint on 127.0.0.1 that counts requests and can be switched to fail, hang or refuse connections. */
export interface JwksServer {
  url: string;
  /** Requests answered or held so far. */
  requests: number;
  jwks: { keys: unknown[] };
  /** `Cache-Control` of the answers; null sends none. Default `public, max-age=300`. */
  cacheControl: string | null;
  /** `ok` answers the set, `fail` answers 500, `hang` never answers. */
  mode: 'ok' | 'fail' | 'hang';
  /** Stops listening: connections are refused until {@link accept}. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: unknown[] = []): Promise<JwksServer> {
  const held = new Set<ServerResponse>();
  const state: JwksServer = {
    url: '',
    requests: 0,
    jwks: { keys },
    cacheControl: 'public, max-age=300',
    mode: 'ok',
    refuse: () => closeServer(server),
    accept: async () => {
      await listen(server, port);
    },
    close: async () => {
      for (const res of held) res.destroy();
      await closeServer(server);
    },
  };
  const server = createServer((req, res) => {
    state.requests++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
    } else if (state.mode === 'hang') {
      held.add(res);
    } else if (state.mode === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
    } else {
      const headers: Record<string, string> = { 'content-type': 'application/jwk-set+json' };
      if (state.cacheControl !== null) headers['cache-control'] = state.cacheControl;
      res.writeHead(200, headers).end(JSON.stringify(state.jwks));
    }
  });
  const port = await listen(server);
  state.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  return state;
}

/** A `fetch` that records every call and can be switched off (calls then fail like a refused connection). */
export interface GatedFetch {
  fetch: typeof fetch;
  calls: { url: string; headers: Record<string, string> }[];
  offline: boolean;
}

export function gatedFetch(): GatedFetch {
  const gate: GatedFetch = {
    calls: [],
    offline: false,
    fetch: async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      gate.calls.push({ url, headers: { ...(init?.headers as Record<string, string> | undefined) } });
      if (gate.offline) throw new TypeError('fetch failed (test: offline)');
      return fetch(input, init);
    },
  };
  return gate;
}

export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A channel no other test (or run) shares. */
export const uniqueChannel = () => `tessera:test:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;

/**
 * Whether Redis answers PING at `url`. Unreachable Redis skips the Redis tests outside CI
 * (with the reason printed) and fails them in CI (`CI=true`), so CI cannot go green by skipping.
 */
export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const reason = await new Promise<string | null>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(1_000, () => done('no answer within 1 s'));
    socket.once('error', (err) => done(err.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) =>
      done(data.toString('latin1').startsWith('+PONG') ? null : `unexpected answer ${data.toString('latin1').trim()}`),
    );
  });
  if (reason === null) return true;
  const message = `Redis is unreachable at ${url} (${reason})`;
  if (process.env.CI === 'true') throw new Error(`${message}; the Redis tests must run in CI`);
  console.warn(`${message}: skipping the Redis tests (they are required when CI=true)`);
  return false;
}

/** What a refusal looked like on the wire, whatever the framework. */
export interface WireAnswer {
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  body: string;
}

/**
 * Asserts an RFC 6750 refusal: `status`, a JSON body of exactly `{ error, error_description }`,
 * the challenge when given (string: exact, RegExp: match), and never the token anywhere.
 */
export function checkRefusal(answer: WireAnswer, status: number, error: string, challenge: string | RegExp | null, token?: string): void {
  const problems: string[] = [];
  if (answer.status !== status) problems.push(`status ${answer.status}, expected ${status}`);
  if (!/^application\/json/.test(answer.contentType ?? '')) problems.push(`content-type ${answer.contentType}`);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    problems.push(`body is not JSON: ${answer.body.slice(0, 100)}`);
  }
  if (Object.keys(body).sort().join() !== 'error,error_description') problems.push(`body keys ${Object.keys(body).join()}`);
  if (body.error !== error) problems.push(`error ${String(body.error)}, expected ${error}`);
  if (typeof body.error_description !== 'string') problems.push('error_description is not a string');
  if (challenge !== null) {
    const ok = typeof challenge === 'string' ? answer.wwwAuthenticate === challenge : challenge.test(answer.wwwAuthenticate ?? '');
    if (!ok) problems.push(`WWW-Authenticate ${answer.wwwAuthenticate}, expected ${challenge}`);
  }
  if (token !== undefined && (answer.body.includes(token) || (answer.wwwAuthenticate ?? '').includes(token)))
    problems.push('the token was echoed');
  if (problems.length > 0) throw new Error(`bad refusal: ${problems.join('; ')}`);
}

/** A fetch Response as a {@link WireAnswer}. */
export async function answerOf(res: Response): Promise<WireAnswer> {
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
    body: await res.text(),
  };
}

/**
 * A stand-in for the auth server's revocation endpoints, as a `fetch`: the catch-up
 * (`GET /v1/revocations?since=`) answers `events`; the stream (`/v1/revocations/stream`) says
 * hello and then stays open, silent, until the feed aborts it. `offline` refuses both, like an
 * auth server that cannot be reached.
 */
export function revocationsFetch(events: readonly WireEvent[], offline = false): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (offline) throw new TypeError('fetch failed (test: auth server unreachable)');
    if (url.includes('/v1/revocations/stream')) {
      const signal = init?.signal;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(': connected\n\n'));
          signal?.addEventListener('abort', () => controller.error(signal.reason), { once: true });
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    const cursor = events.at(-1)?.cursor ?? '0';
    return Response.json(url.includes('since=0') ? { events, cursor } : { events: [], cursor });
  };
}

/**
 * A verifier over a remote JWKS (served by a stub fetch) and the tokens the adapter tests send.
 * `tokens.rotated` is signed by a key published only after the verifier loaded the JWKS: it
 * passes only through the unknown-kid refetch, the path where an adapter has to wait.
 * `tokens.revoked` belongs to a user the revocation feed has logged out everywhere.
 * `failingClosed` is a second verifier, over the same key, whose revocation feed has been
 * unreachable for longer than it tolerates: it refuses every token with a 503.
 * Call `close()` when done: both verifiers run a feed.
 */
export async function adapterFixture() {
  const clock = manualClock();
  const key = await testKey(clock);
  const rotatedKey = await testKey(clock);
  const published: unknown[] = [key.jwk];
  const jwksFetches = { count: 0 };
  const fetchJwks: typeof fetch = async () => {
    jwksFetches.count++;
    return Response.json({ keys: published }, { headers: { 'cache-control': 'public, max-age=300' } });
  };
  const nowS = Math.floor(clock() / 1000);
  // Every token `revoked-user` received until a second from now is void: a "log out everywhere".
  const logout: WireEvent = { cursor: '1', sid: null, sub: 'revoked-user', not_before: nowS + 1, until: nowS + 3600 };
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${ISSUER}/.well-known/jwks.json`,
    jwks: { fetch: fetchJwks },
    revocations: { fetch: revocationsFetch([logout]) },
    clock,
  });
  const failingClosed = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [key.key],
    revocations: { fetch: revocationsFetch([], true), failMode: 'closed', maxOutageMs: 1_000, minRetryMs: 60_000, maxRetryMs: 60_000 },
    clock,
  });
  await Promise.all([verifier.ready(), failingClosed.ready()]);
  published.push(rotatedKey.jwk); // the issuer rotates after this service loaded its keys
  const tokens = {
    plain: key.issue({ sub: 'plain-user' }),
    reader: key.issue({ sub: 'reader', scope: 'orders:read profile' }),
    admin: key.issue({ sub: 'boss', roles: ['admin'] }),
    expired: key.issue({ sub: 'late', ttl: 1 }),
    /** Valid except for the signature. */
    forged: `${key.issue({ sub: 'plain-user' }).slice(0, -4)}AAAA`,
    /** Signed by the key published after `ready()`. */
    rotated: rotatedKey.issue({ sub: 'rotated-user', scope: 'orders:read' }),
    /** Issued before its user logged out everywhere. */
    revoked: key.issue({ sub: 'revoked-user', sid: 'sid-revoked' }),
  };
  // The expired token is past exp + leeway; the others have 10 minutes left (and the unknown-kid
  // cooldown since the first fetch is over, as is the failing-closed feed's tolerated outage).
  clock.advance(32_000);
  return {
    verifier,
    failingClosed,
    key,
    tokens,
    jwksFetches,
    bearer: (token: string) => ({ authorization: `Bearer ${token}` }),
    close() {
      verifier.close();
      failingClosed.close();
    },
  };
}

export const NO_TOKEN = 'Bearer';
export const INVALID_TOKEN = /^Bearer error="invalid_token", error_description="[^"]+"$/;
export const INSUFFICIENT_SCOPE = 'Bearer error="insufficient_scope", scope="orders:write"';
/** The challenge of a refused token with exactly this description. */
export const invalidTokenChallenge = (description: string) => `Bearer error="invalid_token", error_description="${description}"`;

/** What {@link expectRotatedKeyAccepted} needs of an answer, whatever the framework's response type. */
export interface SimpleAnswer {
  status: number;
  body: unknown;
}

/**
 * The adapter's unknown-kid path: a token signed by a key published after start waits for one
 * JWKS refetch and gets through with its claims (`body` as the test route answers them); asked
 * again, it needs no further fetch.
 */
export async function expectRotatedKeyAccepted(
  f: Awaited<ReturnType<typeof adapterFixture>>,
  send: (headers: Record<string, string>) => Promise<SimpleAnswer>,
  body: unknown = { sub: 'rotated-user', scope: 'orders:read' },
): Promise<void> {
  const before = f.jwksFetches.count;
  const first = await send(f.bearer(f.tokens.rotated));
  expect(first).toEqual({ status: 200, body });
  expect(f.jwksFetches.count).toBe(before + 1);
  expect((await send(f.bearer(f.tokens.rotated))).status).toBe(200);
  expect(f.jwksFetches.count).toBe(before + 1);
}
