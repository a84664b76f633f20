import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { VerifiedClaims } from '../index.js';
import { adapterFixture, answerOf, checkRefusal, NO_TOKEN } from '../test-support.js';
import type { ResourceVerifier } from '../verifier.js';
import { requireRole, requireScope, tesseraAuth } from './express.js';
import { adapterContract, claimsBody, type MountedApp, type MountOptions } from './test-adapter-contract.js';

/** Listens on 127.0.0.1 and talks to the app over a real socket. */
async function serve(app: express.Express): Promise<MountedApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: async (path, headers = {}) => answerOf(await fetch(`${base}${path}`, { headers })),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function mount(verifier: ResourceVerifier, { cookieName, reached }: MountOptions): Promise<MountedApp> {
  const app = express();
  app.use(tesseraAuth(cookieName === undefined ? { verifier } : { verifier, cookieName }));
  const answer = (path: string) => (req: express.Request, res: express.Response) => {
    reached.push(path);
    expectTypeOf(req.claims).toEqualTypeOf<VerifiedClaims | undefined>();
    res.json(claimsBody(req.claims as VerifiedClaims));
  };
  app.get('/me', answer('/me'));
  app.get('/orders', requireScope('orders:write'), answer('/orders'));
  app.get('/read', requireScope('orders:read'), answer('/read'));
  app.get('/admin', requireRole('admin'), answer('/admin'));
  return serve(app);
}

adapterContract('Express (real socket)', mount);

describe('Express adapter: its own cases', () => {
  let f: Awaited<ReturnType<typeof adapterFixture>>;
  let guardOnly: MountedApp;

  beforeAll(async () => {
    f = await adapterFixture();
    const app = express();
    app.get('/guard-only', requireScope('orders:read'), (_req, res) => {
      res.json({ reached: true });
    });
    app.get('/role-only', requireRole('admin'), (_req, res) => {
      res.json({ reached: true });
    });
    guardOnly = await serve(app);
  });

  afterAll(async () => {
    await guardOnly?.close();
    f?.close();
  });

  it('a guard without tesseraAuth in front answers 401', async () => {
    checkRefusal(await guardOnly.get('/guard-only', f.bearer(f.tokens.reader)), 401, 'unauthorized', NO_TOKEN);
    checkRefusal(await guardOnly.get('/role-only', f.bearer(f.tokens.admin)), 401, 'unauthorized', NO_TOKEN);
  });

  it('refuses to build without a verifier', () => {
    expect(() => tesseraAuth({} as never)).toThrow(/verifier/);
  });
});
