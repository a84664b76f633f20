// The cookie-session rows of bench:verify: the same /whoami route, authenticated by a session
// looked up per request in SQLite (through @tessera/stores, as the auth server does) or in Redis
// (one GET), so a JWT's local verification can be weighed against a store round trip.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStores } from '@tessera/stores';
import { REDIS_URL, SESSION_COOKIE, SESSIONS } from './knobs.js';
import type { Closers } from './protocol.js';
import { fastifyWith } from './route.js';

/** The session servers' URLs and the cookies of their sessions; Redis may be absent (`redisSkipped` says why). */
export interface SessionServers {
  sqliteUrl: string;
  sqliteCookies: string[];
  redisUrl: string | null;
  redisCookies: string[];
  redisSkipped: string | null;
}

/** Creates SESSIONS live sessions in each store and serves /whoami behind them; registers their cleanup in `closers`. */
export async function sessionServers(closers: Closers): Promise<SessionServers> {
  // Cookie sessions the way the auth server keeps them: `id.secret`, only SHA-256(secret) stored.
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const sessionCookie = (headers: IncomingMessage['headers']) => {
    const raw = headers.cookie;
    if (!raw) return null;
    for (const part of raw.split(';')) {
      const eq = part.indexOf('=');
      if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
      const value = part.slice(eq + 1).trim();
      const dot = value.indexOf('.');
      return dot > 0 ? { id: value.slice(0, dot), secret: value.slice(dot + 1) } : null;
    }
    return null;
  };
  const minted = () => {
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(24).toString('base64url');
    return { id, secret, cookie: `${SESSION_COOKIE}=${id}.${secret}` };
  };

  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-verify-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const stores = await openStores(`sqlite:${join(dir, 'sessions.db')}`);
  closers.push(() => stores.close());
  const now = Date.now();
  const userId = 'bench-user';
  await stores.users.create({
    id: userId,
    email: 'bench@example.test',
    name: null,
    passwordHash: 'x',
    roles: [],
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
  });
  const sqliteCookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = minted();
    await stores.sessions.create({
      id: s.id,
      userId,
      kind: 'cookie',
      secretHash: sha256(s.secret),
      csrfToken: null,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 86_400_000,
      absoluteExpiresAt: now + 7 * 86_400_000,
      userAgent: null,
      ip: null,
      revokedAt: null,
    });
    sqliteCookies.push(s.cookie);
  }
  const sqliteUrl = await fastifyWith(closers, async (headers) => {
    const c = sessionCookie(headers);
    if (c === null) return null;
    const session = await stores.sessions.get(c.id);
    const t = Date.now();
    if (!session || session.revokedAt !== null || session.secretHash === null || !sameHash(session.secretHash, sha256(c.secret)))
      return null;
    if (t >= session.idleExpiresAt || t >= session.absoluteExpiresAt) return null;
    return { sub: session.userId, sid: session.id };
  });

  let redisUrl: string | null = null;
  let redisSkipped: string | null = null;
  const redisCookies: string[] = [];
  try {
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 1_000, lazyConnect: true });
    redis.on('error', () => undefined);
    await redis.connect();
    const prefix = `tessera:bench-verify:${process.pid}:`;
    const pipeline = redis.pipeline();
    for (let i = 0; i < SESSIONS; i++) {
      const s = minted();
      const value = { userId, secretHash: sha256(s.secret), idleExpiresAt: now + 86_400_000, absoluteExpiresAt: now + 7 * 86_400_000 };
      pipeline.set(`${prefix}${s.id}`, JSON.stringify(value), 'EX', 3_600);
      redisCookies.push(s.cookie);
    }
    await pipeline.exec();
    closers.push(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    redisUrl = await fastifyWith(closers, async (headers) => {
      const c = sessionCookie(headers);
      if (c === null) return null;
      const raw = await redis.get(`${prefix}${c.id}`);
      if (raw === null) return null;
      const session = JSON.parse(raw) as { userId: string; secretHash: string; idleExpiresAt: number; absoluteExpiresAt: number };
      const t = Date.now();
      if (!sameHash(session.secretHash, sha256(c.secret)) || t >= session.idleExpiresAt || t >= session.absoluteExpiresAt) return null;
      return { sub: session.userId, sid: c.id };
    });
  } catch (err) {
    redisSkipped = `Redis at ${REDIS_URL} is not reachable (${err instanceof Error ? err.message : String(err)})`;
  }
  return { sqliteUrl, sqliteCookies, redisUrl, redisCookies, redisSkipped };
}
