import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { VerifiedClaims } from '../index.js';
import { adapterFixture, answerOf, checkRefusal, NO_TOKEN } from '../test-support.js';
import type { ResourceVerifier } from '../verifier.js';
import { requireRole, requireScope, type TesseraVariables, tesseraAuth } from './hono.js';
import { adapterContract, claimsBody, type MountedApp, type MountOptions } from './test-adapter-contract.js';

type App = Hono<{ Variables: TesseraVariables }>;

function contractApp(verifier: ResourceVerifier, { cookieName, reached }: MountOptions): App {
  const app = new Hono<{ Variables: TesseraVariables }>();
  app.use('*', tesseraAuth(cookieName === undefined ? { verifier } : { verifier, cookieName }));
  const answer = (path: string) => (c: Context<{ Variables: TesseraVariables }>) => {
    reached.push(path);
    const claims = c.get('claims');
    expectTypeOf(claims).toEqualTypeOf<VerifiedClaims>();
    return c.json(claimsBody(claims));
  };
  app.get('/me', answer('/me'));
  app.get('/orders', requireScope('orders:write'), answer('/orders'));
  app.get('/read', requireScope('orders:read'), answer('/read'));
  app.get('/admin', requireRole('admin'), answer('/admin'));
  return app;
}

/** Through `app.request`: a Fetch Request, no socket. */
function inProcess(app: App): MountedApp {
  return {
    get: async (path, headers = {}) => answerOf(await app.request(path, { headers })),
    close: async () => undefined,
  };
}

/**
 * Under @hono/node-server, over a real socket: there the middleware reads the Node request's
 * headers (`c.env.incoming`) instead of building a Fetch `Headers` object.
 */
async function overNodeServer(app: App): Promise<MountedApp> {
  let base = '';
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      base = `http://127.0.0.1:${info.port}`;
      resolve(s);
    });
  });
  return {
    get: async (path, headers = {}) => answerOf(await fetch(`${base}${path}`, { headers })),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

adapterContract('Hono (app.request)', async (verifier, options) => inProcess(contractApp(verifier, options)));
adapterContract('Hono (@hono/node-server, real socket)', (verifier, options) => overNodeServer(contractApp(verifier, options)));

describe('Hono adapter: its own cases', () => {
  let f: Awaited<ReturnType<typeof adapterFixture>>;
  let guardOnly: MountedApp;

  beforeAll(async () => {
    f = await adapterFixture();
    const app = new Hono<{ Variables: TesseraVariables }>();
    app.get('/guard-only', requireScope('orders:read'), (c) => c.json({ reached: true }));
    app.get('/role-only', requireRole('admin'), (c) => c.json({ reached: true }));
    guardOnly = inProcess(app);
  });

  afterAll(() => {
    f?.close();
  });

  it('a guard without tesseraAuth in front answers 401, not 500', async () => {
    checkRefusal(await guardOnly.get('/guard-only', f.bearer(f.tokens.reader)), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(await guardOnly.get('/role-only', f.bearer(f.tokens.admin)), 401, 'unauthorized', NO_TOKEN);
  });

  it('refuses to build without a verifier', () => {
    expect(() => tesseraAuth({} as never)).toThrow(/verifier/);
  });
});
