import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectTypeOf } from 'vitest';
import { checkRoles, checkScopes, type VerifiedClaims } from '../index.js';
import { answerOf } from '../test-support.js';
import type { ResourceVerifier } from '../verifier.js';
import { authenticate, sendRefusal } from './node-http.js';
import { adapterContract, claimsBody, type MountedApp, type MountOptions } from './test-adapter-contract.js';

// node:http has no middleware chain: the handler calls authenticate(), then the scope and role
// checks, and sends what they refuse with sendRefusal().
async function mount(verifier: ResourceVerifier, { cookieName, reached }: MountOptions): Promise<MountedApp> {
  const guards: Record<string, (claims: VerifiedClaims) => ReturnType<typeof checkScopes>> = {
    '/me': () => null,
    '/orders': (claims) => checkScopes(claims, ['orders:write']),
    '/read': (claims) => checkScopes(claims, ['orders:read']),
    '/admin': (claims) => checkRoles(claims, ['admin']),
  };
  const server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    const claims = await authenticate(req, res, verifier, cookieName === undefined ? {} : { cookieName });
    if (!claims) return;
    expectTypeOf(claims).toEqualTypeOf<VerifiedClaims>();
    const refusal = guards[path]?.(claims) ?? null;
    if (refusal) return sendRefusal(res, refusal);
    reached.push(path);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claimsBody(claims)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: async (path, headers = {}) => answerOf(await fetch(`${base}${path}`, { headers })),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

adapterContract('node:http (real socket)', mount);
