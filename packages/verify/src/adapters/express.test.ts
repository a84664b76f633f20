import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
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
import { requireRole, requireScope, tesseraAuth } from './express.js';

type Fixture = Awaited<ReturnType<typeof adapterFixture>>;
let f: Fixture;
let server: Server;
let base: string;

beforeAll(async () => {
  f = await adapterFixture();
  const app = express();
  app.use('/api', tesseraAuth({ verifier: f.verifier }));
  app.use('/cookie', tesseraAuth({ verifier: f.verifier, cookieName: 'at' }));
  app.get('/api/me', (req, res) => {
    expectTypeOf(req.claims).toEqualTypeOf<VerifiedClaims | undefined>();
    res.json({ sub: req.claims?.sub, scope: req.claims?.scope ?? null });
  });
  app.get('/api/orders', requireScope('orders:write'), (req, res) => {
    res.json({ sub: req.claims?.sub });
  });
  app.get('/api/read', requireScope('orders:read'), (req, res) => {
    res.json({ sub: req.claims?.sub });
  });
  app.get('/api/admin', requireRole('admin'), (req, res) => {
    res.json({ sub: req.claims?.sub });
  });
  app.get('/guard-only', requireScope('orders:read'), (_req, res) => {
    res.json({ reached: true });
  });
  app.get('/cookie/me', (req, res) => {
    res.json({ sub: req.claims?.sub });
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('Express adapter (real socket)', () => {
  it('a valid token: the claims reach the handler on req.claims', async () => {
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

  it('a guard without tesseraAuth in front answers 401', async () => {
    checkRefusal(await answerOf(await get('/guard-only', f.bearer(f.tokens.reader))), 401, 'unauthorized', NO_TOKEN);
  });

  it('reads the cookie only when cookieName is set', async () => {
    const cookie = { cookie: `at=${f.tokens.plain}` };
    checkRefusal(await answerOf(await get('/api/me', cookie)), 401, 'unauthorized', NO_TOKEN);
    expect(await (await get('/cookie/me', cookie)).json()).toEqual({ sub: 'plain-user' });
  });

  it('refuses to build without a verifier', () => {
    expect(() => tesseraAuth({} as never)).toThrow(/verifier/);
  });
});
