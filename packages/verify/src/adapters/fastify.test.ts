import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { VerifiedClaims } from '../index.js';
import {
  adapterFixture,
  checkRefusal,
  expectRotatedKeyAccepted,
  INSUFFICIENT_SCOPE,
  INVALID_TOKEN,
  NO_TOKEN,
  type WireAnswer,
} from '../test-support.js';
import { requireRole, requireScope, tesseraAuth } from './fastify.js';

type Fixture = Awaited<ReturnType<typeof adapterFixture>>;
let f: Fixture;
let app: FastifyInstance;

/** The parts of an inject() response the assertions read. */
interface Injected {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

const wire = (res: Injected): WireAnswer => ({
  status: res.statusCode,
  contentType: (res.headers['content-type'] as string | undefined) ?? null,
  wwwAuthenticate: (res.headers['www-authenticate'] as string | undefined) ?? null,
  body: res.body,
});

beforeAll(async () => {
  f = await adapterFixture();
  app = Fastify();
  await app.register(tesseraAuth, { verifier: f.verifier });
  app.get('/me', { preHandler: app.authenticate }, async (request) => {
    expectTypeOf(request.claims).toEqualTypeOf<VerifiedClaims | null>();
    return { sub: request.claims?.sub, scope: request.claims?.scope ?? null };
  });
  app.get('/orders', { preHandler: [app.authenticate, requireScope('orders:write')] }, async (request) => ({ sub: request.claims?.sub }));
  app.get('/read', { preHandler: [app.authenticate, requireScope('orders:read')] }, async (request) => ({ sub: request.claims?.sub }));
  app.get('/admin', { preHandler: [app.authenticate, requireRole('admin', 'owner')] }, async (request) => ({ sub: request.claims?.sub }));
  app.get('/guard-only', { preHandler: requireScope('orders:read') }, async () => ({ reached: true }));
  app.get('/public', async (request) => ({ claims: request.claims }));
  // Awaited from the app's own async hook rather than mounted as the preHandler itself.
  app.get(
    '/wrapped',
    {
      preHandler: async (request, reply) => {
        await app.authenticate(request, reply);
      },
    },
    async (request) => ({ sub: request.claims?.sub }),
  );
});

afterAll(async () => {
  await app?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('Fastify adapter (app.inject)', () => {
  it('a valid token: the claims reach the handler on request.claims', async () => {
    const res = await get('/me', f.bearer(f.tokens.reader));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: 'reader', scope: 'orders:read profile' });
  });

  it('a token from a key published after start: waits for one JWKS refetch, then lets it through', async () => {
    await expectRotatedKeyAccepted(f, async (headers) => {
      const res = await get('/me', headers);
      return { status: res.statusCode, body: res.json() };
    });
  });

  it('awaited from an async hook: lets a valid token through and answers the refusal itself', async () => {
    expect((await get('/wrapped', f.bearer(f.tokens.reader))).json()).toEqual({ sub: 'reader' });
    checkRefusal(wire(await get('/wrapped', f.bearer(f.tokens.forged))), 401, 'invalid_token', INVALID_TOKEN, f.tokens.forged);
    checkRefusal(wire(await get('/wrapped')), 401, 'unauthorized', NO_TOKEN);
  });

  it('awaited from an async hook, with an async onSend hook in the app: a refused request never reaches the handler', async () => {
    const reached: unknown[] = [];
    const slow = Fastify();
    await slow.register(tesseraAuth, { verifier: f.verifier });
    // Holds every answer back a little, as a compression or signing hook would.
    slow.addHook('onSend', async (_request, _reply, payload) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return payload;
    });
    slow.addHook('preHandler', async (request, reply) => {
      await slow.authenticate(request, reply);
    });
    slow.post('/orders/delete', async (request) => {
      reached.push(request.claims?.sub ?? null);
      return { deleted: true };
    });
    try {
      const post = (headers: Record<string, string>) => slow.inject({ method: 'POST', url: '/orders/delete', headers });
      checkRefusal(wire(await post({})), 401, 'unauthorized', NO_TOKEN);
      checkRefusal(wire(await post(f.bearer(f.tokens.forged))), 401, 'invalid_token', INVALID_TOKEN, f.tokens.forged);
      expect(reached).toEqual([]);
      expect((await post(f.bearer(f.tokens.reader))).json()).toEqual({ deleted: true });
      expect(reached).toEqual(['reader']);
    } finally {
      await slow.close();
    }
  });

  it('no token: 401 with a bare Bearer challenge', async () => {
    checkRefusal(wire(await get('/me')), 401, 'unauthorized', NO_TOKEN);
  });

  it('an invalid, forged or expired token: 401 invalid_token, never echoing the token', async () => {
    for (const token of [f.tokens.forged, f.tokens.expired, 'garbage']) {
      checkRefusal(wire(await get('/me', f.bearer(token))), 401, 'invalid_token', INVALID_TOKEN, token);
    }
  });

  it('another scheme: 401 with the bare challenge; a Bearer header without a token: 400 invalid_request', async () => {
    checkRefusal(wire(await get('/me', { authorization: 'Basic dXNlcjpwYXNz' })), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(wire(await get('/me', { authorization: 'Bearer' })), 400, 'invalid_request', 'Bearer error="invalid_request"');
  });

  it('scope guard: 403 insufficient_scope naming the scope; passes with it', async () => {
    checkRefusal(wire(await get('/orders', f.bearer(f.tokens.reader))), 403, 'insufficient_scope', INSUFFICIENT_SCOPE);
    expect((await get('/read', f.bearer(f.tokens.reader))).json()).toEqual({ sub: 'reader' });
    checkRefusal(wire(await get('/read', f.bearer(f.tokens.plain))), 403, 'insufficient_scope', /scope="orders:read"/);
  });

  it('role guard: 403 without one of the roles; passes with it', async () => {
    checkRefusal(wire(await get('/admin', f.bearer(f.tokens.reader))), 403, 'insufficient_role', null);
    expect((await get('/admin', f.bearer(f.tokens.admin))).json()).toEqual({ sub: 'boss' });
  });

  it('a guard without authenticate in front answers 401; routes without it see claims null', async () => {
    checkRefusal(wire(await get('/guard-only', f.bearer(f.tokens.reader))), 401, 'unauthorized', NO_TOKEN);
    expect((await get('/public', f.bearer(f.tokens.reader))).json()).toEqual({ claims: null });
  });

  it('reads the cookie only when cookieName is set', async () => {
    const cookie = { cookie: `at=${f.tokens.plain}` };
    checkRefusal(wire(await get('/me', cookie)), 401, 'unauthorized', NO_TOKEN);
    const withCookie = Fastify();
    await withCookie.register(tesseraAuth, { verifier: f.verifier, cookieName: 'at' });
    withCookie.get('/me', { preHandler: withCookie.authenticate }, async (request) => ({ sub: request.claims?.sub }));
    const res = await withCookie.inject({ method: 'GET', url: '/me', headers: cookie });
    expect(res.json()).toEqual({ sub: 'plain-user' });
    await withCookie.close();
  });

  it('refuses to register without a verifier', async () => {
    const bare = Fastify();
    await expect(bare.register(tesseraAuth, {} as never)).rejects.toThrow(/verifier/);
  });
});
