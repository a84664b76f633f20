import Fastify, { type FastifyInstance, type preHandlerHookHandler } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { VerifiedClaims } from '../index.js';
import { adapterFixture, checkRefusal, INVALID_TOKEN, NO_TOKEN, type WireAnswer } from '../test-support.js';
import type { ResourceVerifier } from '../verifier.js';
import { requireRole, requireScope, tesseraAuth } from './fastify.js';
import { adapterContract, claimsBody, type MountedApp, type MountOptions } from './test-adapter-contract.js';

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

const injecting = (app: FastifyInstance): MountedApp => ({
  get: async (url, headers = {}) => wire(await app.inject({ method: 'GET', url, headers })),
  close: () => app.close(),
});

/**
 * The contract routes behind `app.authenticate`, mounted as Fastify calls it (`hook: 'callback'`,
 * with `done`) or awaited from an async preHandler of the app's own (`hook: 'awaited'`).
 */
function mountWith(hook: 'callback' | 'awaited') {
  return async (verifier: ResourceVerifier, { cookieName, reached }: MountOptions): Promise<MountedApp> => {
    const app = Fastify();
    await app.register(tesseraAuth, cookieName === undefined ? { verifier } : { verifier, cookieName });
    const authenticate: preHandlerHookHandler =
      hook === 'callback'
        ? app.authenticate
        : async (request, reply) => {
            await app.authenticate(request, reply);
          };
    const answer = (path: string) => async (request: { claims: VerifiedClaims | null }) => {
      reached.push(path);
      expectTypeOf(request.claims).toEqualTypeOf<VerifiedClaims | null>();
      return claimsBody(request.claims as VerifiedClaims);
    };
    app.get('/me', { preHandler: authenticate }, answer('/me'));
    app.get('/orders', { preHandler: [authenticate, requireScope('orders:write')] }, answer('/orders'));
    app.get('/read', { preHandler: [authenticate, requireScope('orders:read')] }, answer('/read'));
    app.get('/admin', { preHandler: [authenticate, requireRole('admin')] }, answer('/admin'));
    return injecting(app);
  };
}

adapterContract('Fastify (app.inject, preHandler)', mountWith('callback'));
adapterContract('Fastify (app.inject, awaited from an async hook)', mountWith('awaited'));

describe('Fastify adapter: its own cases', () => {
  let f: Awaited<ReturnType<typeof adapterFixture>>;
  let app: FastifyInstance;

  beforeAll(async () => {
    f = await adapterFixture();
    app = Fastify();
    await app.register(tesseraAuth, { verifier: f.verifier });
    app.get('/admin', { preHandler: [app.authenticate, requireRole('admin', 'owner')] }, async (request) => ({ sub: request.claims?.sub }));
    app.get('/guard-only', { preHandler: requireScope('orders:read') }, async () => ({ reached: true }));
    app.get('/role-only', { preHandler: requireRole('admin') }, async () => ({ reached: true }));
    app.get('/public', async (request) => ({ claims: request.claims }));
  });

  afterAll(async () => {
    await app?.close();
    f?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

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

  it('role guard: any one of the roles passes', async () => {
    checkRefusal(wire(await get('/admin', f.bearer(f.tokens.reader))), 403, 'insufficient_role', null);
    expect((await get('/admin', f.bearer(f.tokens.admin))).json()).toEqual({ sub: 'boss' });
  });

  it('a guard without authenticate in front answers 401; routes without it see claims null', async () => {
    checkRefusal(wire(await get('/guard-only', f.bearer(f.tokens.reader))), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(wire(await get('/role-only', f.bearer(f.tokens.admin))), 401, 'unauthorized', NO_TOKEN);
    expect((await get('/public', f.bearer(f.tokens.reader))).json()).toEqual({ claims: null });
  });

  it('refuses to register without a verifier', async () => {
    const bare = Fastify();
    await expect(bare.register(tesseraAuth, {} as never)).rejects.toThrow(/verifier/);
  });
});
