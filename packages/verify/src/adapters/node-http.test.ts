import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { checkRoles, checkScopes, type VerifiedClaims } from '../index.js';
import {
  adapterFixture,
  answerOf,
  checkRefusal,
  expectRotatedKeyAccepted,
  INSUFFICIENT_SCOPE,
  INVALID_TOKEN,
  NO_TOKEN,
} from '../test-support.js';
import { authenticate, sendRefusal } from './node-http.js';

type Fixture = Awaited<ReturnType<typeof adapterFixture>>;
let f: Fixture;
let server: Server;
let base: string;

beforeAll(async () => {
  f = await adapterFixture();
  server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    const claims = await authenticate(req, res, f.verifier, path.startsWith('/cookie') ? { cookieName: 'at' } : {});
    if (!claims) return;
    expectTypeOf(claims).toEqualTypeOf<VerifiedClaims>();
    const refusal = path === '/orders' ? checkScopes(claims, ['orders:write']) : path === '/admin' ? checkRoles(claims, ['admin']) : null;
    if (refusal) return sendRefusal(res, refusal);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: claims.sub, scope: claims.scope ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('node:http adapter (real socket)', () => {
  it('a valid token: authenticate() resolves the claims', async () => {
    const res = await get('/me', f.bearer(f.tokens.reader));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'reader', scope: 'orders:read profile' });
  });

  it('a token from a key published after start: waits for one JWKS refetch, then lets it through', async () => {
    await expectRotatedKeyAccepted(f, async (headers) => {
      const res = await get('/me', headers);
      return { status: res.status, body: await res.json() };
    });
  });

  it('no token: 401 with a bare Bearer challenge', async () => {
    checkRefusal(await answerOf(await get('/me')), 401, 'unauthorized', NO_TOKEN);
  });

  it('an invalid, forged or expired token: 401 invalid_token, never echoing the token', async () => {
    for (const token of [f.tokens.forged, f.tokens.expired, 'garbage']) {
      checkRefusal(await answerOf(await get('/me', f.bearer(token))), 401, 'invalid_token', INVALID_TOKEN, token);
    }
  });

  it('another scheme: 401 with the bare challenge; a Bearer header without a token: 400 invalid_request', async () => {
    checkRefusal(await answerOf(await get('/me', { authorization: 'Basic dXNlcjpwYXNz' })), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(await answerOf(await get('/me', { authorization: 'Bearer' })), 400, 'invalid_request', 'Bearer error="invalid_request"');
  });

  it('scope and role checks answer 403 through sendRefusal', async () => {
    checkRefusal(await answerOf(await get('/orders', f.bearer(f.tokens.reader))), 403, 'insufficient_scope', INSUFFICIENT_SCOPE);
    checkRefusal(await answerOf(await get('/admin', f.bearer(f.tokens.reader))), 403, 'insufficient_role', null);
    expect(await (await get('/admin', f.bearer(f.tokens.admin))).json()).toEqual({ sub: 'boss', scope: null });
  });

  it('reads the cookie only when cookieName is set', async () => {
    const cookie = { cookie: `at=${f.tokens.plain}` };
    checkRefusal(await answerOf(await get('/me', cookie)), 401, 'unauthorized', NO_TOKEN);
    expect(await (await get('/cookie/me', cookie)).json()).toEqual({ sub: 'plain-user', scope: null });
  });
});
