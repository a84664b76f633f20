// Resource services keep verifying through an auth-server outage: an auth server and two
// example services (each persisting the JWKS with --jwks-cache). After SIGKILL of the auth
// server, 1 000 requests with valid tokens to each service all succeed with the claims;
// forged tokens are still refused; and a service restarted during the outage verifies from
// its persisted JWKS, and still refuses a token revoked before the outage (--revocations-cache).
//
// Needs the build (`npm run build`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FeedStatus, JwksStatus } from '@tessera/verify';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePart, getJson, login, logout, signUp, uniqueEmail, whoami } from './lib/http.js';
import {
  type AuthServer,
  cleanUp,
  restartService,
  type Service,
  startAuthServer,
  startService,
  tempDir,
  waitFor,
} from './lib/processes.js';

const REQUESTS = 1_000;
const CONCURRENCY = 16;

const statusOf = (s: Service) => getJson<{ feed: FeedStatus; jwks: JwksStatus }>(`${s.base}/status`);

/** `count` GET /whoami with the tokens in turn, `CONCURRENCY` at a time; resolves the statuses seen and how many bodies lacked the user. */
async function hammer(service: Service, tokens: readonly string[], userId: string, count: number) {
  const statuses = new Map<number, number>();
  let wrongBody = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const r = await whoami(service.base, tokens[i % tokens.length] as string);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200 && r.body?.sub !== userId) wrongBody++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { statuses: Object.fromEntries(statuses), wrongBody };
}

/** Same kid, same claims, signed by a key the issuer never had. */
async function forgeWithOtherKey(real: string): Promise<string> {
  const header = decodePart(real, 0);
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT(decodePart(real, 1)).setProtectedHeader({ alg: 'ES256', kid: header.kid as string, typ: 'at+jwt' }).sign(privateKey);
}

/** `alg: none` (CVE-2015-9235 family): unsigned, and unsigned with the real signature glued on. */
function forgeAlgNone(real: string): string[] {
  const [, payload, signature] = real.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', kid: decodePart(real, 0).kid, typ: 'at+jwt' })).toString('base64url');
  return [`${header}.${payload}.`, `${header}.${payload}.${signature}`];
}

describe('auth-server outage', () => {
  let auth: AuthServer;
  let services: Service[];
  let userId: string;
  const tokens: string[] = [];
  const forged: string[] = [];
  const dir = tempDir('tessera-jwks-');
  const cacheFiles = [join(dir, 'a', 'jwks.json'), join(dir, 'b', 'jwks.json')];
  let revoked = '';

  beforeAll(async () => {
    auth = await startAuthServer();
    services = await Promise.all(
      cacheFiles.map((jwksCache) =>
        startService({
          issuer: auth.issuer,
          audience: auth.issuer,
          jwksCache,
          revocationsCache: join(jwksCache, '..', 'revocations.json'),
        }),
      ),
    );
    const email = uniqueEmail('outage');
    userId = (await signUp(auth.base, email)).id;
    // Three sessions: two seen by the services before the outage, one first presented during it (a cache miss, verified from the cached JWKS).
    for (let i = 0; i < 3; i++) tokens.push((await login(auth.base, email)).access_token);
    for (const s of services) for (const t of tokens.slice(0, 2)) expect((await whoami(s.base, t)).status).toBe(200);
    for (const f of cacheFiles) await waitFor(`JWKS persisted to ${f}`, () => existsSync(f));
    forged.push(await forgeWithOtherKey(tokens[0] as string), ...forgeAlgNone(tokens[0] as string));
    // A fourth session, logged out before the outage: every service learns it from the feed.
    revoked = (await login(auth.base, email)).access_token;
    for (const s of services) expect((await whoami(s.base, revoked)).status).toBe(200);
    expect(await logout(auth.base, revoked)).toBe(204);
    for (const s of services) await waitFor('the logout to reach the service', async () => (await whoami(s.base, revoked)).status === 401);
    // A forged-key token is refused while the auth server is up, too (sanity).
    expect((await whoami(services[0]!.base, forged[0] as string)).status).toBe(401);
  });
  afterAll(cleanUp);

  it(`after SIGKILL of the auth server, ${REQUESTS} requests with valid tokens to each service all succeed`, async () => {
    const exit = await auth.proc.stop('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    await expect(fetch(`${auth.base}/healthz`)).rejects.toThrow();
    const results = await Promise.all(services.map((s) => hammer(s, tokens, userId, REQUESTS)));
    for (const r of results) expect(r).toEqual({ statuses: { 200: REQUESTS }, wrongBody: 0 });
    // They did notice the outage: the revocation feed is down.
    for (const s of services) expect((await statusOf(s)).feed.connected).toBe(false);
  });

  it('forged tokens (another key under the same kid; alg none) are still refused', async () => {
    for (const s of services) {
      for (const token of forged) {
        const r = await whoami(s.base, token);
        expect(r.status).toBe(401);
        expect(r.body?.error).toBe('invalid_token');
      }
    }
  });

  it('a service restarted while the auth server is still down verifies from its persisted JWKS, and still refuses a revoked token', async () => {
    const restarted = await restartService(services[1] as Service);
    services[1] = restarted;
    const jwks = (await statusOf(restarted)).jwks;
    expect(jwks.keys).toBeGreaterThan(0);
    expect(jwks.lastError).not.toBeNull(); // the fetch at start failed: these keys came from the file
    for (const token of tokens) {
      const r = await whoami(restarted.base, token);
      expect(r.status).toBe(200);
      expect(r.body?.sub).toBe(userId);
    }
    for (const token of forged) expect((await whoami(restarted.base, token)).status).toBe(401);
    // The logout made before the outage came back from --revocations-cache.
    expect((await whoami(restarted.base, revoked)).status).toBe(401);
    expect((await statusOf(restarted)).feed).toMatchObject({ connected: false });
  });
});
