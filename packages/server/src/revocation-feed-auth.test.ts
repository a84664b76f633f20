import { Writable } from 'node:stream';
import { createMemoryStores } from '@tessera/stores';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { basicAuth, bearer, expectError, FEED_CLIENT, FEED_ENV, feedAuth, json, register, tokenLogin } from './test-helpers.js';

/** Every route of the feed, as `inject` requests. */
const FEED_ROUTES = [
  { method: 'GET', url: '/v1/revocations?since=0' },
  { method: 'GET', url: '/v1/revocations/stream' },
  { method: 'HEAD', url: '/v1/revocations/stream' },
] as const;

// Hardening from outside probes: the feed names the session and user of every logout, so it is
// for the resource servers of TESSERA_RESOURCE_SERVERS only.
describe('revocation feed: resource-server credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(FEED_ENV);
    const user = await register(t.app);
    const { access_token } = await tokenLogin(t.app, user);
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(access_token) });
  });

  it('no credentials: 401 invalid_client with a Basic challenge, on both routes and HEAD', async () => {
    for (const route of FEED_ROUTES) {
      for (const headers of [{}, bearer('not-a-basic-credential'), { authorization: 'Basic !!!' }]) {
        const res = await t.app.inject({ ...route, headers });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Basic realm="tessera"');
        if (route.method === 'GET') expect(json(res).error).toBe('invalid_client');
        expect(res.body).not.toContain('"events"');
      }
    }
  });

  it('a wrong secret or an unknown client id: 401, before the cursor is even read', async () => {
    for (const headers of [basicAuth(FEED_CLIENT.id, `${FEED_CLIENT.secret}x`), basicAuth('someone-else', FEED_CLIENT.secret)]) {
      for (const route of FEED_ROUTES) expect((await t.app.inject({ ...route, headers })).statusCode).toBe(401);
      // A bad cursor would be a 400 for a resource server; a stranger learns nothing of it.
      expectError(await t.app.inject({ method: 'GET', url: '/v1/revocations?since=abc', headers }), 401, 'invalid_client');
    }
  });

  it('the right credentials read the feed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/revocations?since=0', headers: feedAuth() });
    expect(res.statusCode).toBe(200);
    expect(json<{ events: unknown[] }>(res).events.length).toBeGreaterThan(0);
    const head = await t.app.inject({ method: 'HEAD', url: '/v1/revocations/stream', headers: feedAuth() });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
  });

  // Online guessing in parallel: every attempt is charged before its secret is compared, so a
  // burst gets the free allowance (10) through to the comparison and no more.
  for (const [what, request] of [
    ['the feed', (authorization: string) => ({ method: 'GET' as const, url: '/v1/revocations', headers: { authorization } })],
    [
      'introspection',
      (authorization: string) => ({
        method: 'POST' as const,
        url: '/oauth/introspect',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=x',
      }),
    ],
  ] as const) {
    it(`a burst of 50 parallel wrong secrets for one client id on ${what}: at most 10 reach the secret check, the rest get 429`, async () => {
      const app = (await createTestApp(FEED_ENV)).app;
      const guesses = Array.from({ length: 50 }, (_, i) =>
        app.inject({
          ...request(basicAuth(FEED_CLIENT.id, `guess-${i}-xxxxxxxxxxxxxxxxxxxx`).authorization),
          remoteAddress: '203.0.113.9',
        }),
      );
      const statuses = (await Promise.all(guesses)).map((res) => res.statusCode);
      // A 401 is an attempt whose secret was compared; a 429 never got that far.
      const checked = statuses.filter((s) => s === 401).length;
      expect(checked).toBeGreaterThan(0);
      expect(checked).toBeLessThanOrEqual(10);
      expect(statuses.filter((s) => s === 429).length).toBe(50 - checked);
      // The right secret from that address waits out the back-off too; another address does not.
      const right = feedAuth().authorization;
      expect((await app.inject({ ...request(right), remoteAddress: '203.0.113.9' })).statusCode).toBe(429);
      expect((await app.inject({ ...request(right), remoteAddress: '198.51.100.9' })).statusCode).toBe(200);
    });
  }

  it('a resource server reading often is never throttled by its own successes', async () => {
    const app = (await createTestApp(FEED_ENV)).app;
    const reads = Array.from({ length: 40 }, () => app.inject({ method: 'GET', url: '/v1/revocations', headers: feedAuth() }));
    expect((await Promise.all(reads)).map((res) => res.statusCode)).toEqual(Array(40).fill(200));
    for (let i = 0; i < 40; i++)
      expect((await app.inject({ method: 'GET', url: '/v1/revocations', headers: feedAuth() })).statusCode).toBe(200);
  });

  it('requests naming no configured client id are not counted against it', async () => {
    const app = (await createTestApp(FEED_ENV)).app;
    const strangers = Array.from({ length: 50 }, (_, i) =>
      app.inject({ method: 'GET', url: '/v1/revocations', headers: basicAuth(`other-${i}`, FEED_CLIENT.secret) }),
    );
    expect((await Promise.all(strangers)).every((res) => res.statusCode === 401)).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/v1/revocations', headers: feedAuth() })).statusCode).toBe(200);
  });
});

describe('revocation feed closed at start', () => {
  /** The warnings the server logs while it is built. */
  async function startupWarnings(env: Record<string, string>): Promise<string> {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const t = await createTestApp(env, createMemoryStores(), { logger: { level: 'warn', stream } });
    await t.app.close();
    return lines.join('');
  }

  it('says, in one line, that the feed is closed and that TESSERA_RESOURCE_SERVERS opens it', async () => {
    const warnings = await startupWarnings({});
    const closed = warnings.split('\n').filter((line) => line.includes('revocation feed closed'));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toContain('TESSERA_RESOURCE_SERVERS');
    expect(await startupWarnings(FEED_ENV)).not.toContain('revocation feed closed');
  });
});
