import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { makeSession, makeUser, T0 } from '../contract/fixtures.js';
import { isStoreUnavailable } from '../errors.js';
import { createPostgresStores, type PgPoolLike } from '../postgres/index.js';
import { describePostgres } from '../postgres/test-database.js';
import type { UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import { redisKeys } from './keys.js';
import { openRedis } from './open.js';
import { createProfileCopies, profileInvalidator, withProfileInvalidation } from './profiles.js';
import { SessionOwners } from './session-owners.js';
import { createRedisSessionStore } from './sessions.js';
import { deleteByPrefix, freePort, LOCAL_REDIS_URL, redisUnavailable } from './test-redis.js';

const RUN_PREFIX = `tessera-test:${randomUUID()}:`;
let prefixes = 0;
const redisDown = await redisUnavailable(LOCAL_REDIS_URL);

it('SessionOwners keeps at most its bound, dropping the oldest written', () => {
  const owners = new SessionOwners(2);
  owners.set('a', 'u1');
  owners.set('b', 'u2');
  owners.set('a', 'u1');
  owners.set('c', 'u3');
  expect([owners.get('a'), owners.get('b'), owners.get('c'), owners.size]).toEqual(['u1', undefined, 'u3', 2]);
  const none = new SessionOwners(0);
  none.set('a', 'u1');
  expect(none.get('a')).toBeUndefined();
  expect(() => new SessionOwners(-1)).toThrow(TypeError);
});

// Sessions in Redis, profiles in PostgreSQL (TESSERA_SESSION_STORE=redis): every statement sent
// to PostgreSQL is counted.
describePostgres('redis sessions over postgres: the profile read', (database) => {
  if (redisDown !== null) {
    it.skipIf(process.env.CI !== 'true')('has Redis', () => {
      throw new Error(redisDown);
    });
    return;
  }
  afterAll(async () => {
    const redis = new Redis(LOCAL_REDIS_URL);
    await deleteByPrefix(redis, RUN_PREFIX);
    await redis.quit();
  });

  async function open(options: { knownOwners?: number; profileCopyTtlMs?: number; clock?: () => number } = {}) {
    const live: PgPoolLike = new pg.Pool({ connectionString: database().url, max: 4 });
    const sent: string[] = [];
    const pool: PgPoolLike = {
      query: (text, values) => {
        sent.push(text);
        return live.query(text, values);
      },
      connect: () => live.connect(),
      end: () => live.end(),
      on: (event, listener) => live.on(event, listener),
    };
    const sql = await createPostgresStores({ pool, schema: `redis_profiles_${++prefixes}` });
    const redis = await openRedis(LOCAL_REDIS_URL);
    const prefix = `${RUN_PREFIX}${prefixes}:`;
    const sessions = createRedisSessionStore(redis, { users: sql.users, prefix, ...options });
    sent.length = 0;
    return {
      sql,
      prefix,
      /** The user store as `withRedisStores` hands it out: each change drops the profile copy. */
      users: withProfileInvalidation(sql.users, profileInvalidator(redis, redisKeys(prefix))),
      redis: redis as RedisClient & Redis,
      sessions,
      sent,
      close: async () => {
        await redis.quit();
        await sql.close();
      },
    };
  }

  it('without copies, N concurrent lookups: one Redis pipeline for the sessions, one PostgreSQL query for the profiles', async () => {
    const { sql, redis, sessions, sent, close } = await open({ profileCopyTtlMs: 0 });
    try {
      const users = Array.from({ length: 5 }, (_, i) => makeUser({ roles: [`role-${i}`] }));
      for (const user of users) await sql.users.create(user);
      const created = users.map((u) => makeSession(u.id, { kind: 'cookie', secretHash: 'ab'.repeat(32) }));
      for (const s of created) await sessions.create(s);
      sent.length = 0;
      const pending = Promise.all(created.map((s) => sessions.getWithUser(s.id)));
      // Every session read of this turn waits in one auto-pipeline: one write to Redis.
      expect(redis.autoPipelineQueueSize).toBe(created.length);
      const found = await pending;
      expect(sent).toHaveLength(1);
      expect(found).toEqual(
        created.map((session, i) => ({
          session,
          user: { id: users[i]!.id, email: users[i]!.email, name: null, roles: [`role-${i}`], disabledAt: null },
        })),
      );
      // Known sessions now: the profile read leaves with the session read, still one query per turn.
      sent.length = 0;
      expect((await Promise.all(created.map((s) => sessions.getWithUser(s.id)))).map((f) => f?.user.id)).toEqual(users.map((u) => u.id));
      expect(sent).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it('with copies, each lookup is one Redis command: one pipeline for a turn, no PostgreSQL query', async () => {
    const { sql, redis, sessions, sent, close } = await open();
    try {
      const users = Array.from({ length: 5 }, (_, i) => makeUser({ name: `User ${i}`, roles: [`role-${i}`] }));
      for (const user of users) await sql.users.create(user);
      const created = users.map((u) => makeSession(u.id, { kind: 'cookie', secretHash: 'ab'.repeat(32) }));
      for (const s of created) await sessions.create(s);
      const expected = created.map((session, i) => ({
        session,
        user: { id: users[i]!.id, email: users[i]!.email, name: `User ${i}`, roles: [`role-${i}`], disabledAt: null },
      }));
      sent.length = 0;
      // First lookups: no copy yet, so one query (the turn's findById calls batched) fills them.
      expect(await Promise.all(created.map((s) => sessions.getWithUser(s.id)))).toEqual(expected);
      expect(sent).toHaveLength(1);
      sent.length = 0;
      const pending = Promise.all(created.map((s) => sessions.getWithUser(s.id)));
      // One HMGET per lookup (the session and the copy beside it), in one write to Redis.
      expect(redis.autoPipelineQueueSize).toBe(created.length);
      expect(await pending).toEqual(expected);
      expect(sent).toEqual([]);
    } finally {
      await close();
    }
  });

  // Stale authorisation data: roles are changed in the system of record, not through Tessera.
  it('without copies, a role changed in PostgreSQL behind the store, and a revocation, are seen by the next lookup', async () => {
    for (const owners of [undefined, 0]) {
      const { sql, sessions, close } = await open({ profileCopyTtlMs: 0, ...(owners === undefined ? {} : { knownOwners: owners }) });
      const admin = new pg.Client({ connectionString: database().url });
      await admin.connect();
      try {
        const user = makeUser({ roles: ['admin'] });
        await sql.users.create(user);
        const session = makeSession(user.id, { kind: 'cookie' });
        await sessions.create(session);
        expect((await sessions.getWithUser(session.id))?.user.roles).toEqual(['admin']);
        expect((await sessions.getWithUser(session.id))?.user.roles).toEqual(['admin']);
        await admin.query(`UPDATE redis_profiles_${prefixes}.users SET roles = $1 WHERE id = $2`, [[], user.id]);
        expect(await sessions.revoke(session.id, T0 + 1)).toBe(true);
        const found = await sessions.getWithUser(session.id);
        expect(found?.user.roles).toEqual([]);
        expect(found?.session.revokedAt).toBe(T0 + 1);
      } finally {
        await admin.end();
        await close();
      }
    }
  });

  it('with copies, every change through the user store is seen by the next lookup on every node; one behind it, once the copy ages out', async () => {
    let now = T0;
    const clock = () => now;
    const { sql, users, prefix, redis, sessions, close } = await open({ clock });
    // A second node: its own store over the same Redis and database.
    const other = createRedisSessionStore(redis, { users: sql.users, prefix, clock });
    const admin = new pg.Client({ connectionString: database().url });
    await admin.connect();
    try {
      const user = makeUser({ roles: ['admin'] });
      await users.create(user);
      // Two sessions of the user: a change drops the copies of both.
      const session = makeSession(user.id, { kind: 'cookie' });
      const second = makeSession(user.id, { kind: 'cookie' });
      await sessions.create(session);
      await other.create(second);
      for (const node of [sessions, other, sessions, other]) {
        for (const s of [session, second]) expect((await node.getWithUser(s.id))?.user.roles).toEqual(['admin']);
      }
      expect(await users.changeRoles(user.id, { revoke: ['admin'], grant: ['support'] }, T0 + 1)).toEqual(['support']);
      for (const node of [sessions, other]) {
        for (const s of [session, second]) expect((await node.getWithUser(s.id))?.user.roles).toEqual(['support']);
      }
      expect(await users.setDisabled(user.id, T0 + 2, T0 + 2)).toBe(true);
      for (const s of [session, second]) expect((await other.getWithUser(s.id))?.user.disabledAt).toBe(T0 + 2);

      // Behind the store: the copy still answers, for at most its lifetime.
      await admin.query(`UPDATE redis_profiles_${prefixes}.users SET roles = $1 WHERE id = $2`, [['admin'], user.id]);
      now = T0 + 29_999;
      expect((await other.getWithUser(session.id))?.user.roles).toEqual(['support']);
      now = T0 + 30_000;
      expect((await other.getWithUser(session.id))?.user.roles).toEqual(['admin']);

      // A deleted user's sessions find no profile on any node.
      expect(await users.delete(user.id)).toBe(true);
      for (const node of [sessions, other]) {
        for (const s of [session, second]) expect(await node.getWithUser(s.id)).toBeNull();
      }
    } finally {
      await admin.end();
      await close();
    }
  });

  it('a copy filled from a read that a change overtook is never written', async () => {
    const { sql, users, prefix, redis, sessions, close } = await open();
    try {
      const user = makeUser({ roles: ['admin'] });
      await users.create(user);
      const session = makeSession(user.id, { kind: 'cookie' });
      await sessions.create(session);
      // A reader whose database read returns the profile as it was before the change below.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const reading = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const slow: Pick<UserStore, 'findById'> = {
        async findById(id) {
          const before = await sql.users.findById(id);
          entered();
          await held;
          return before;
        },
      };
      const copies = createProfileCopies(redis, redisKeys(prefix), slow, 30_000);
      const hash = () => redis.hgetall(redisKeys(prefix).session(session.id));
      // The generation is read with the session, before the profile.
      const loading = copies.load(session.id, user.id, (await hash()).profileGeneration ?? '0', T0);
      await reading;
      expect(await users.changeRoles(user.id, { set: [] }, T0 + 1)).toEqual([]);
      release();
      expect((await loading)?.roles).toEqual(['admin']); // what that reader saw, for its own request
      expect(copies.fromHash(user.id, await hash(), T0)).toBeNull(); // but no stale copy for the others
      expect((await sessions.getWithUser(session.id))?.user.roles).toEqual([]);
      expect(copies.fromHash(user.id, await hash(), T0)?.roles).toEqual([]);
    } finally {
      await close();
    }
  });

  it('the session read decides whose profile is returned, whatever the remembered owner', async () => {
    const reads: string[] = [];
    const users: Pick<UserStore, 'findById'> = {
      async findById(id) {
        reads.push(id);
        return makeUser({ id, roles: [id] });
      },
    };
    const redis = await openRedis(LOCAL_REDIS_URL);
    try {
      const prefix = `${RUN_PREFIX}owner:`;
      const a = createRedisSessionStore(redis, { users, prefix, profileCopyTtlMs: 0 });
      const session = makeSession('usr_real', { kind: 'cookie' });
      await a.create(session);
      expect((await a.getWithUser(session.id))?.user.id).toBe('usr_real');
      // The session is deleted and its id reused for someone else (never done, but not assumed).
      await deleteByPrefix(redis as unknown as Redis, prefix);
      const reused = { ...session, userId: 'usr_other' };
      await a.create(reused);
      reads.length = 0;
      expect((await a.getWithUser(session.id))?.user).toMatchObject({ id: 'usr_other', roles: ['usr_other'] });
      expect(reads).toEqual(['usr_real', 'usr_other']);
    } finally {
      await redis.quit();
    }
  });

  it('Redis unreachable: every lookup of a pipeline fails with an error isStoreUnavailable recognises', async () => {
    const redis = await openRedis(`redis://127.0.0.1:${await freePort()}`, { connectTimeoutMs: 500 });
    try {
      const sessions = createRedisSessionStore(redis, { users: { findById: async () => null } });
      const results = await Promise.allSettled(['a', 'b', 'c'].map((id) => sessions.getWithUser(id)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const r of results) expect(isStoreUnavailable((r as PromiseRejectedResult).reason)).toBe(true);
    } finally {
      (redis as unknown as Redis).disconnect();
    }
  });
});
