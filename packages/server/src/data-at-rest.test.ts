import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStores, openStores, type Stores } from '@tessera/stores';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { dataDirOf, loadKek } from './lib/kek.js';
import { randomId, randomSecret, ServerSecrets, sha256Hex } from './lib/secrets.js';
import { createTestApp, testClock } from './test-app.js';
import { type CookieSession, cookieLogin, expectError, ISSUER, me, register } from './test-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-at-rest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** The server as `tessera-server serve` starts it (bin.ts): config, stores, then the KEK from the data dir. */
async function startServer(databaseUrl: string, clock = testClock()): Promise<{ app: FastifyInstance; stores: Stores; kek: Buffer }> {
  const config = loadConfig({ TESSERA_ISSUER: ISSUER, TESSERA_DATABASE_URL: databaseUrl });
  const stores = await openStores(config.databaseUrl);
  const kek = loadKek(config.kek, dataDirOf(config.databaseUrl));
  const app = await buildApp({ config, stores, kek, clock, logger: false, background: false });
  await app.ready();
  return { app, stores, kek };
}

async function stop(server: { app: FastifyInstance; stores: Stores }): Promise<void> {
  await server.app.close();
  await server.stores.close();
}

/** The default layout, `sqlite:<dir>/data/tessera.db`, in a fresh directory. */
function freshDataUrl(): { url: string; dataDir: string; db: string } {
  const dataDir = join(root, `node${++dirs}`, 'data');
  const db = join(dataDir, 'tessera.db');
  return { url: `sqlite:${db}`, dataDir, db };
}

/** A cookie-authenticated state change that leaves the session alive when it passes (204). */
const logoutOthers = (app: FastifyInstance, s: CookieSession, token: string) =>
  app.inject({ method: 'DELETE', url: '/v1/sessions/others', headers: { ...s.cookie, 'x-csrf-token': token } });

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * Data at rest (adversarial probe): the database, its -wal/-shm files and the data directory were
 * readable by every local user, and cookie sessions kept their CSRF token in plain text.
 */
describe('data at rest', () => {
  it('world-readable data dir: the default data dir is 0700, the database, -wal, -shm and kek files 0600', async () => {
    const { url, dataDir, db } = freshDataUrl();
    const server = await startServer(url);
    try {
      const user = await register(server.app);
      await cookieLogin(server.app, user);
      expect(mode(dataDir)).toBe(0o700);
      for (const file of [db, `${db}-wal`, `${db}-shm`, join(dataDir, 'kek')]) {
        expect(existsSync(file), file).toBe(true);
        expect(mode(file), file).toBe(0o600);
      }
    } finally {
      await stop(server);
    }
  });

  it('world-readable data dir: loadKek alone creates a missing data directory 0700 and its kek 0600', () => {
    const dataDir = join(root, `kek${++dirs}`, 'data');
    const kek = loadKek(undefined, dataDir);
    expect(kek).toHaveLength(32);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'kek'))).toBe(0o600);
    expect(loadKek(undefined, dataDir).equals(kek)).toBe(true);
  });

  it('plain CSRF tokens at rest: the session row and the database files hold no CSRF token', async () => {
    const { url, db } = freshDataUrl();
    const server = await startServer(url);
    try {
      const user = await register(server.app);
      const s = await cookieLogin(server.app, user);
      expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await server.stores.sessions.get(s.sid))?.csrfToken).toBeNull();
      for (const file of [db, `${db}-wal`]) expect(readFileSync(file).includes(s.csrf), file).toBe(false);
    } finally {
      await stop(server);
    }
  });

  it('plain CSRF tokens at rest: the double-submit still works for a non-browser client with the token from login; a wrong one is 403', async () => {
    const t = await createTestApp();
    const user = await register(t.app);
    const s = await cookieLogin(t.app, user);
    const other = await cookieLogin(t.app, user);
    expectError(await logoutOthers(t.app, s, other.csrf), 403, 'csrf_token_invalid');
    expectError(await logoutOthers(t.app, s, `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}`), 403, 'csrf_token_invalid');
    expect((await logoutOthers(t.app, s, s.csrf)).statusCode).toBe(204);
    expect((await me(t.app, s.cookie)).statusCode).toBe(200);
  });

  it('plain CSRF tokens at rest: the token survives a restart on the same data dir (kek file)', async () => {
    const { url } = freshDataUrl();
    const first = await startServer(url);
    const user = await register(first.app);
    const s = await cookieLogin(first.app, user);
    await stop(first);
    const second = await startServer(url);
    try {
      expect(second.kek.equals(first.kek)).toBe(true);
      expect(new ServerSecrets(second.kek).csrfToken(s.sid)).toBe(s.csrf);
      expectError(await logoutOthers(second.app, s, randomSecret()), 403, 'csrf_token_invalid');
      expect((await logoutOthers(second.app, s, s.csrf)).statusCode).toBe(204);
    } finally {
      await stop(second);
    }
  });

  it('plain CSRF tokens at rest: another node sharing the KEK accepts the token; another KEK derives another token', async () => {
    const stores = createMemoryStores();
    const a = await createTestApp({}, stores);
    const b = await createTestApp({}, stores, { kek: a.kek, clock: a.clock });
    const user = await register(a.app);
    const s = await cookieLogin(a.app, user);
    expect((await logoutOthers(b.app, s, s.csrf)).statusCode).toBe(204);
    // (A node with another KEK does not even start on these stores: it cannot open the signing keys.)
    expect(new ServerSecrets(randomBytes(32)).csrfToken(s.sid)).not.toBe(s.csrf);
  });

  it('plain CSRF tokens at rest: a session stored with a plain token answers to the derived one only', async () => {
    const t = await createTestApp();
    const user = await register(t.app);
    const userId = (await t.stores.users.findByEmail(user.email))?.id as string;
    const sid = randomId();
    const secret = randomSecret();
    const plain = randomSecret();
    const now = t.clock.now;
    await t.stores.sessions.create({
      id: sid,
      userId,
      kind: 'cookie',
      secretHash: sha256Hex(secret),
      csrfToken: plain,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 3_600_000,
      absoluteExpiresAt: now + 3_600_000,
      userAgent: null,
      ip: null,
      revokedAt: null,
    });
    const s = { cookie: { cookie: `tessera_session=${sid}.${secret}` } } as CookieSession;
    expectError(await logoutOthers(t.app, s, plain), 403, 'csrf_token_invalid');
    expect((await logoutOthers(t.app, s, new ServerSecrets(t.kek).csrfToken(sid))).statusCode).toBe(204);
  });
});
