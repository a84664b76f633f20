// "Log out everywhere" killed in the middle, on a real auth server process over SQLite: the
// revocation events are durable before any session is marked, so whenever the SIGKILL lands
// after the first write, the restarted server refuses every access token, cookie and refresh
// token of the user, and a retried logout completes what the killed one began.
//
// Needs the build (`npm run build`): it runs packages/server/dist/bin.js.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { openStores } from '@tessera/stores';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, uniqueEmail } from './lib/http.js';
import { type AuthServer, cleanUp, restartAuthServer, startAuthServer } from './lib/processes.js';

/** Sessions of each kind the user holds when "log out everywhere" is killed. */
const TOKEN_SESSIONS = 1500;
const COOKIE_SESSIONS = 1500;
/** Requests in flight at once against the server. */
const PARALLEL = 32;

const id = () => randomBytes(16).toString('base64url');
const secret = () => randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Held {
  sid: string;
  cookie?: string;
  access?: string;
  refresh?: string;
}

/** Runs `work` over `items`, PARALLEL at a time. */
async function each<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return out;
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

describe('a crash during "log out everywhere"', () => {
  let server: AuthServer;
  let file: string;
  let userId: string;
  let email: string;
  const held: Held[] = [];

  beforeAll(async () => {
    // The cap stays out of the way: this user holds thousands of sessions on purpose.
    server = await startAuthServer({ env: { TESSERA_MAX_SESSIONS_PER_USER: '10000' } });
    email = uniqueEmail('crash');
    userId = (await signUp(server.base, email)).id;
    await server.proc.stop('SIGTERM');

    // Thousands of logins in seconds: written straight into the database while the server is down
    // (argon2 would take minutes). Token sessions get their access tokens from real refreshes below.
    file = join(server.cwd, 'data', 'tessera.db');
    const stores = await openStores(`sqlite:${file}`);
    const now = Date.now();
    const base = { userId, csrfToken: null, lastSeenAt: now - 60_000, userAgent: null, ip: null, revokedAt: null };
    for (let i = 0; i < TOKEN_SESSIONS + COOKIE_SESSIONS; i++) {
      const sid = id();
      const s = secret();
      const createdAt = now - 60_000 - i;
      const times = { createdAt, idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000 };
      if (i < TOKEN_SESSIONS) {
        await stores.sessions.create({ ...base, ...times, id: sid, kind: 'token', secretHash: null });
        const rid = id();
        await stores.refreshTokens.create({
          id: rid,
          sessionId: sid,
          userId,
          secretHash: sha256(s),
          createdAt,
          expiresAt: now + 86_400_000,
          rotatedAt: null,
          successorId: null,
          scope: '',
        });
        held.push({ sid, refresh: `rt_${rid}${s}` });
      } else {
        await stores.sessions.create({ ...base, ...times, id: sid, kind: 'cookie', secretHash: sha256(s) });
        held.push({ sid, cookie: `tessera_session=${sid}.${s}` });
      }
    }
    await stores.close();
    server = await restartAuthServer(server);

    await each(
      held.filter((h) => h.refresh),
      async (h) => {
        const res = await fetch(`${server.base}/v1/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: h.refresh }),
        });
        const body = (await res.json()) as { access_token: string; refresh_token: string };
        if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${JSON.stringify(body)}`);
        h.access = body.access_token;
        h.refresh = body.refresh_token;
      },
    );
  }, 120_000);

  afterAll(cleanUp);

  // A crash during "log out everywhere" leaves access tokens valid, and the retry says 204: one
  // UPDATE marked every session, then the events went in one by one; killed in between, half the
  // access tokens stayed valid, and the retry found nothing live to write events for.
  it('a crash during "log out everywhere" leaves access tokens valid: none is, after a SIGKILL mid-request and a restart', async () => {
    const caller = held[0] as Held;
    expect(await status(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${caller.access}` } })).toBe(200);

    // Watch the database from outside; kill the server at its first durable write of the logout.
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const events = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM revocation_events');
    const marked = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions WHERE revoked_at IS NOT NULL');
    const answer = fetch(`${server.base}/v1/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${caller.access}` } }).then(
      (res) => res.status,
      () => 'no answer',
    );
    let atKill = { events: 0, marked: 0 };
    const deadline = Date.now() + 30_000;
    for (;;) {
      atKill = { events: (events.get() as { n: number }).n, marked: (marked.get() as { n: number }).n };
      if (atKill.events > 0 || atKill.marked > 0) break;
      if (Date.now() > deadline) throw new Error('the logout wrote nothing within 30 s');
      await tick();
    }
    server.proc.child.kill('SIGKILL');
    await server.proc.exited;
    db.close();
    // Killed in the middle: the request never got its answer.
    expect(await answer).toBe('no answer');
    // Events first: whatever was marked already has its event (at most a batch is unmarked).
    expect(atKill.events).toBeGreaterThanOrEqual(atKill.marked);

    server = await restartAuthServer(server);
    const bearer = (h: Held) => ({ authorization: `Bearer ${h.access}` });
    const results = await each(held, async (h) => {
      if (h.cookie) return [await status(`${server.base}/v1/me`, { headers: { cookie: h.cookie } })];
      return [
        await status(`${server.base}/v1/me`, { headers: bearer(h) }),
        await status(`${server.base}/v1/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: h.refresh }),
        }),
      ];
    });
    const usable = results.flat().filter((s) => s === 200).length;
    expect({ credentials: results.flat().length, usable }).toEqual({ credentials: TOKEN_SESSIONS * 2 + COOKIE_SESSIONS, usable: 0 });
    expect(results.flat().every((s) => s === 401 || s === 400)).toBe(true);

    // The retry: from a session that still works if there were one, else from a fresh login.
    const working = held.find((_h, i) => (results[i] as number[])[0] === 200);
    let headers: Record<string, string>;
    if (working) headers = working.cookie ? { cookie: working.cookie, origin: server.base } : bearer(working);
    else {
      const res = await fetch(`${server.base}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username: email, password: 'correct horse battery staple' }),
      });
      expect(res.status).toBe(200);
      headers = { authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
    }
    expect(await status(`${server.base}/v1/sessions`, { method: 'DELETE', headers })).toBe(204);

    // Every session is marked and has its event.
    const after = new Database(file, { readonly: true, fileMustExist: true });
    const live = after.prepare<[string], { id: string }>('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL').all(userId);
    const withEvents = new Set(
      after
        .prepare<[], { sid: string }>('SELECT DISTINCT sid FROM revocation_events WHERE sid IS NOT NULL')
        .all()
        .map((r) => r.sid),
    );
    after.close();
    expect(live).toEqual([]);
    expect(held.filter((h) => !withEvents.has(h.sid)).length).toBe(0);
  }, 120_000);
});
