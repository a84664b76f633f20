import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { VerifiedClaims } from '../index.js';
import {
  adapterFixture,
  answerOf,
  checkRefusal,
  expectRotatedKeyAccepted,
  INSUFFICIENT_SCOPE,
  INVALID_TOKEN,
  NO_TOKEN,
} from '../test-support.js';
import { requireRole, requireScope, type TesseraVariables, tesseraAuth } from './hono.js';

type Fixture = Awaited<ReturnType<typeof adapterFixture>>;
let f: Fixture;
let app: Hono<{ Variables: TesseraVariables }>;

beforeAll(async () => {
  f = await adapterFixture();
  app = new Hono<{ Variables: TesseraVariables }>();
  app.use('/api/*', tesseraAuth({ verifier: f.verifier }));
  app.use('/cookie/*', tesseraAuth({ verifier: f.verifier, cookieName: 'at' }));
  app.get('/api/me', (c) => {
    const claims = c.get('claims');
    expectTypeOf(claims).toEqualTypeOf<VerifiedClaims>();
    return c.json({ sub: claims.sub, scope: claims.scope ?? null });
  });
  app.get('/api/orders', requireScope('orders:write'), (c) => c.json({ sub: c.get('claims').sub }));
  app.get('/api/read', requireScope('orders:read'), (c) => c.json({ sub: c.get('claims').sub }));
  app.get('/api/admin', requireRole('admin'), (c) => c.json({ sub: c.get('claims').sub }));
  app.get('/guard-only', requireScope('orders:read'), (c) => c.json({ reached: true }));
  app.get('/cookie/me', (c) => c.json({ sub: c.get('claims').sub }));
});

const get = async (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

describe('Hono adapter (app.request)', () => {
  it('a valid token: the claims reach the handler on c.get("claims")', async () => {
    const res = await get('/api/me', f.bearer(f.tokens.reader));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'reader', scope: 'orders:read profile' });
  });

  it('a token from a key published after start: waits for one JWKS refetch, then lets it through', async () => {
    await expectRotatedKeyAccepted(f, async (headers) => {
      const res = await get('/api/me', headers);
      return { status: res.status, body: await res.json() };
    });
  });

  it('no token: 401 with a bare Bearer challenge', async () => {
    checkRefusal(await answerOf(await get('/api/me')), 401, 'unauthorized', NO_TOKEN);
  });

  it('an invalid, forged or expired token: 401 invalid_token, never echoing the token', async () => {
    for (const token of [f.tokens.forged, f.tokens.expired, 'garbage']) {
      checkRefusal(await answerOf(await get('/api/me', f.bearer(token))), 401, 'invalid_token', INVALID_TOKEN, token);
    }
  });

  it('another scheme: 401 with the bare challenge; a Bearer header without a token: 400 invalid_request', async () => {
    checkRefusal(await answerOf(await get('/api/me', { authorization: 'Basic dXNlcjpwYXNz' })), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(
      await answerOf(await get('/api/me', { authorization: 'Bearer' })),
      400,
      'invalid_request',
      'Bearer error="invalid_request"',
    );
  });

  it('scope guard: 403 insufficient_scope naming the scope; passes with it', async () => {
    checkRefusal(await answerOf(await get('/api/orders', f.bearer(f.tokens.reader))), 403, 'insufficient_scope', INSUFFICIENT_SCOPE);
    expect(await (await get('/api/read', f.bearer(f.tokens.reader))).json()).toEqual({ sub: 'reader' });
  });

  it('role guard: 403 without the role; passes with it', async () => {
    checkRefusal(await answerOf(await get('/api/admin', f.bearer(f.tokens.reader))), 403, 'insufficient_role', null);
    expect(await (await get('/api/admin', f.bearer(f.tokens.admin))).json()).toEqual({ sub: 'boss' });
  });

  it('a guard without tesseraAuth in front answers 401, not 500', async () => {
    checkRefusal(await answerOf(await get('/guard-only', f.bearer(f.tokens.reader))), 401, 'unauthorized', NO_TOKEN);
  });

  it('reads the cookie only when cookieName is set', async () => {
    const cookie = { cookie: `at=${f.tokens.plain}` };
    checkRefusal(await answerOf(await get('/api/me', cookie)), 401, 'unauthorized', NO_TOKEN);
    expect(await (await get('/cookie/me', cookie)).json()).toEqual({ sub: 'plain-user' });
  });
});

// Under @hono/node-server the middleware reads the Node request's headers (c.env.incoming)
// instead of building a Fetch Headers object: the same answers over a real socket.
describe('Hono adapter (@hono/node-server, real socket)', () => {
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const fetchPath = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

  it('verifies the Authorization header, refuses bad tokens and other schemes, and reads cookies only when asked', async () => {
    expect(await (await fetchPath('/api/me', f.bearer(f.tokens.reader))).json()).toEqual({ sub: 'reader', scope: 'orders:read profile' });
    checkRefusal(await answerOf(await fetchPath('/api/me')), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(
      await answerOf(await fetchPath('/api/me', f.bearer(f.tokens.forged))),
      401,
      'invalid_token',
      INVALID_TOKEN,
      f.tokens.forged,
    );
    checkRefusal(await answerOf(await fetchPath('/api/me', { authorization: 'Basic dXNlcjpwYXNz' })), 401, 'unauthorized', NO_TOKEN);
    // Fetch joins repeated headers with ", ": two Bearer headers arrive as one, and are still refused as two.
    checkRefusal(
      await answerOf(await fetchPath('/api/me', { authorization: `Bearer ${f.tokens.reader}, Bearer ${f.tokens.plain}` })),
      400,
      'invalid_request',
      'Bearer error="invalid_request"',
    );
    const cookie = { cookie: `at=${f.tokens.plain}` };
    checkRefusal(await answerOf(await fetchPath('/api/me', cookie)), 401, 'unauthorized', NO_TOKEN);
    expect(await (await fetchPath('/cookie/me', cookie)).json()).toEqual({ sub: 'plain-user' });
  });
});
