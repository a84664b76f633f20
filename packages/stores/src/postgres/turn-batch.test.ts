import pg from 'pg';
import { expect, it } from 'vitest';
import { MINUTE, makeRefresh, makeSession, makeUser, seedSession, T0 } from '../contract/fixtures.js';
import { isStoreUnavailable } from '../errors.js';
import type { RefreshToken, Stores } from '../types.js';
import { createPostgresStores, type PgPoolLike } from './index.js';
import { describePostgres } from './test-database.js';

/** A pool that counts the statements sent through it and can be switched to a server that is down. */
function countingPool(url: string) {
  const live: PgPoolLike = new pg.Pool({ connectionString: url, max: 4 });
  // Nobody listens on port 1: each query fails as it would during an outage (ECONNREFUSED).
  const dead: PgPoolLike = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', max: 1 });
  dead.on('error', () => {});
  const sent: string[] = [];
  const state = { down: false };
  const pool: PgPoolLike = {
    query: (text, values) => {
      sent.push(text);
      return (state.down ? dead : live).query(text, values);
    },
    connect: () => live.connect(),
    end: async () => {
      await Promise.all([live.end(), dead.end()]);
    },
    on: (event, listener) => live.on(event, listener),
  };
  return { pool, sent, state };
}

/** Statements of the batched reads: the session-and-user join, the user by id. */
const batchedSessionReads = (sent: string[]) => sent.filter((t) => /JOIN .*WHERE s\.id = ANY/s.test(t));
const batchedUserReads = (sent: string[]) => sent.filter((t) => /FROM \S+\.users WHERE id = ANY/.test(t));

/** Statements of the batched rotation (one per batch). */
const batchedRotations = (sent: string[]) => sent.filter((t) => /unnest\(/.test(t) && /UPDATE \S+\.refresh_tokens/.test(t));

let schemas = 0;

/** Stores in a schema of their own over a {@link countingPool}, its count started after migrating. */
async function openCounting(url: string) {
  const counting = countingPool(url);
  const stores: Stores = await createPostgresStores({ pool: counting.pool, schema: `batch_${++schemas}` });
  counting.sent.length = 0;
  return { stores, ...counting };
}

describePostgres('postgres: per-turn read batching', (database) => {
  const open = () => openCounting(database().url);

  it('N concurrent getWithUser calls make one query, each caller getting its own session and user', async () => {
    const { stores, sent } = await open();
    try {
      const user = makeUser({ name: 'Ada', roles: ['admin'] });
      await stores.users.create(user);
      const sessions = await Promise.all(
        Array.from({ length: 8 }, (_, i) => seedSession(stores, { userId: user.id, kind: 'cookie', secretHash: `${i}`.repeat(64) })),
      );
      sent.length = 0;
      const ids = [...sessions.map((s) => s.id), 'sid_nobody', sessions[0]!.id];
      const found = await Promise.all(ids.map((id) => stores.sessions.getWithUser(id)));
      expect(sent).toHaveLength(1);
      expect(batchedSessionReads(sent)).toHaveLength(1);
      expect(found.slice(0, 8)).toEqual(
        sessions.map((session) => ({ session, user: { id: user.id, email: user.email, name: 'Ada', roles: ['admin'], disabledAt: null } })),
      );
      expect(found[8]).toBeNull();
      // One id asked for twice: equal answers, but not shared objects (a caller slides its own session).
      expect(found[9]).toEqual(found[0]);
      expect(found[9]?.session).not.toBe(found[0]?.session);
      expect(found[9]?.user.roles).not.toBe(found[0]?.user.roles);
      // A later turn is a new batch: nothing was kept.
      await stores.sessions.getWithUser(sessions[1]!.id);
      expect(batchedSessionReads(sent)).toHaveLength(2);
    } finally {
      await stores.close();
    }
  });

  it('a revocation committed (on another node) before the lookups were asked for is seen by them', async () => {
    const { stores } = await open();
    const nodeB = await createPostgresStores({ connectionString: database().url, schema: `batch_${schemas}` });
    try {
      const user = makeUser();
      await stores.users.create(user);
      const sessions = await Promise.all(Array.from({ length: 4 }, () => seedSession(stores, { userId: user.id, kind: 'cookie' })));
      // Read once, so a cache (there must be none) would have something to serve.
      expect((await Promise.all(sessions.map((s) => stores.sessions.getWithUser(s.id)))).map((f) => f?.session.revokedAt)).toEqual([
        null,
        null,
        null,
        null,
      ]);
      expect(await nodeB.sessions.revoke(sessions[2]!.id, T0 + 5)).toBe(true);
      const found = await Promise.all(sessions.map((s) => stores.sessions.getWithUser(s.id)));
      expect(found.map((f) => f?.session.revokedAt)).toEqual([null, null, T0 + 5, null]);
    } finally {
      await nodeB.close();
      await stores.close();
    }
  });

  // A NUL cannot be sent in a text parameter: joined to a batch it would have failed every
  // other lookup of that batch with 22021. No stored id holds one, so it is simply not found.
  it('an id PostgreSQL cannot hold fails nobody else: it is not found, and the others are', async () => {
    const { stores, sent } = await open();
    try {
      const a = await seedSession(stores, { kind: 'cookie' });
      const b = await seedSession(stores, { kind: 'cookie' });
      sent.length = 0;
      const found = await Promise.all([a.id, 'sid_\u0000x', b.id].map((id) => stores.sessions.getWithUser(id)));
      expect(found.map((f) => f?.session.id ?? null)).toEqual([a.id, null, b.id]);
      expect(await Promise.all([a.userId, 'usr_\u0000'].map((id) => stores.users.findById(id).then((u) => u?.id ?? null)))).toEqual([
        a.userId,
        null,
      ]);
      expect(sent).toHaveLength(2);
    } finally {
      await stores.close();
    }
  });

  it('a batch whose query fails fails each of its callers with the outage error; the next batch works', async () => {
    const { stores, state } = await open();
    try {
      const sessions = await Promise.all([1, 2, 3].map(() => seedSession(stores, { kind: 'cookie' })));
      state.down = true;
      const results = await Promise.allSettled(sessions.map((s) => stores.sessions.getWithUser(s.id)));
      state.down = false;
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      const reasons = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
      expect(reasons.every((err) => err === reasons[0])).toBe(true);
      expect(isStoreUnavailable(reasons[0])).toBe(true);
      expect((await Promise.all(sessions.map((s) => stores.sessions.getWithUser(s.id)))).map((f) => f?.session.id)).toEqual(
        sessions.map((s) => s.id),
      );
    } finally {
      await stores.close();
    }
  });

  it('getWithOwner: a refresh token with its session and user in one batched query, as get and getWithUser answer', async () => {
    const { stores, sent } = await open();
    try {
      const user = makeUser({ name: 'Ada', roles: ['admin'] });
      await stores.users.create(user);
      const session = await seedSession(stores, { userId: user.id });
      const live = makeRefresh(session, { scope: 'openid' });
      // refresh_tokens has no key to sessions (they may be kept elsewhere): a token may outlive its row.
      const orphan = makeRefresh(makeSession(user.id));
      for (const t of [live, orphan]) await stores.refreshTokens.create(t);
      sent.length = 0;
      const read = (id: string) => stores.refreshTokens.getWithOwner!(id, stores.sessions);
      const found = await Promise.all([read(live.id), read(orphan.id), read('rt_nobody'), read('rt_\u0000'), read(live.id)]);
      expect(sent).toHaveLength(1);
      expect(found[0]).toEqual({ token: live, owner: await stores.sessions.getWithUser(session.id) });
      expect(found[0]?.owner?.user).toEqual({ id: user.id, email: user.email, name: 'Ada', roles: ['admin'], disabledAt: null });
      expect(found[1]).toEqual({ token: orphan, owner: null });
      expect(found[2]).toBeNull();
      expect(found[3]).toBeNull();
      // Each caller gets its own objects.
      expect(found[4]).toEqual(found[0]);
      expect(found[4]?.owner?.session).not.toBe(found[0]?.owner?.session);
    } finally {
      await stores.close();
    }
  });

  it('getWithOwner answers undefined to a caller whose sessions are another store (kept elsewhere)', async () => {
    const { stores, sent } = await open();
    try {
      const session = await seedSession(stores);
      const token = makeRefresh(session);
      await stores.refreshTokens.create(token);
      sent.length = 0;
      expect(await stores.refreshTokens.getWithOwner!(token.id, { ...stores.sessions })).toBeUndefined();
      expect(sent).toHaveLength(0);
    } finally {
      await stores.close();
    }
  });

  it("listActiveWithAccount: listActive's sessions and the account's hash and mark, in one statement", async () => {
    const { stores, sent } = await open();
    try {
      const user = makeUser();
      const other = makeUser();
      for (const u of [user, other]) await stores.users.create(u);
      const now = T0 + 10 * MINUTE;
      const at = (minutes: number) => T0 + minutes * MINUTE;
      const older = makeSession(user.id, { createdAt: at(1) });
      const newer = makeSession(user.id, { createdAt: at(2), kind: 'cookie' });
      const ended = [
        makeSession(user.id, { revokedAt: at(3) }),
        makeSession(user.id, { idleExpiresAt: now }),
        makeSession(user.id, { absoluteExpiresAt: now - 1 }),
        makeSession(other.id),
      ];
      sent.length = 0;
      expect(await stores.sessions.listActiveWithAccount!(user.id, now)).toEqual({
        account: { passwordHash: user.passwordHash, disabledAt: null },
        sessions: [],
      });
      expect(sent).toHaveLength(1);
      for (const session of [older, newer, ...ended]) await stores.sessions.create(session);
      await stores.users.setDisabled(user.id, at(4), at(4));
      sent.length = 0;
      const found = await stores.sessions.listActiveWithAccount!(user.id, now);
      expect(sent).toHaveLength(1);
      expect(found).toEqual({ account: { passwordHash: user.passwordHash, disabledAt: at(4) }, sessions: [newer, older] });
      expect(found.sessions).toEqual(await stores.sessions.listActive(user.id, now));
      expect(await stores.sessions.listActiveWithAccount!('usr_nobody', now)).toEqual({ account: null, sessions: [] });
    } finally {
      await stores.close();
    }
  });

  it('createWithSession: the session and its first refresh token in one statement, all or nothing', async () => {
    const { stores, sent } = await open();
    try {
      const user = makeUser();
      await stores.users.create(user);
      const session = makeSession(user.id);
      const token = makeRefresh(session);
      sent.length = 0;
      expect(await stores.refreshTokens.createWithSession!(session, token, stores.sessions)).toBe(true);
      expect(sent).toHaveLength(1);
      expect(await stores.sessions.get(session.id)).toEqual(session);
      expect(await stores.refreshTokens.get(token.id)).toEqual(token);
      // A refresh token id already taken: the statement fails, and the new session is not kept either.
      const second = makeSession(user.id);
      await expect(
        stores.refreshTokens.createWithSession!(second, { ...makeRefresh(second), id: token.id }, stores.sessions),
      ).rejects.toThrow();
      expect(await stores.sessions.get(second.id)).toBeNull();
      // Sessions kept elsewhere: nothing stored, the caller creates both.
      const third = makeSession(user.id);
      sent.length = 0;
      expect(await stores.refreshTokens.createWithSession!(third, makeRefresh(third), { ...stores.sessions })).toBe(false);
      expect(sent).toHaveLength(0);
      expect(await stores.sessions.get(third.id)).toBeNull();
    } finally {
      await stores.close();
    }
  });

  it('N concurrent users.findById calls (the profile read behind Redis sessions) make one query', async () => {
    const { stores, sent } = await open();
    try {
      const users = Array.from({ length: 6 }, (_, i) => makeUser({ roles: [`role-${i}`] }));
      for (const user of users) await stores.users.create(user);
      sent.length = 0;
      const found = await Promise.all([...users.map((u) => stores.users.findById(u.id)), stores.users.findById('usr_nobody')]);
      expect(batchedUserReads(sent)).toHaveLength(1);
      expect(sent).toHaveLength(1);
      expect(found).toEqual([...users, null]);
    } finally {
      await stores.close();
    }
  });

  it("with preparedStatements, the batched reads and a login's statements are named, prepared once per connection", async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    const stores = await createPostgresStores({ pool, schema: `batch_${++schemas}`, preparedStatements: true });
    const prepared = async () =>
      (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);
    try {
      const a = await seedSession(stores, { kind: 'cookie' });
      const b = await seedSession(stores, { kind: 'cookie' });
      const user = (await stores.users.findById(a.userId))!;
      for (let i = 0; i < 3; i++) {
        expect((await Promise.all([a.id, b.id].map((id) => stores.sessions.getWithUser(id)))).map((f) => f?.session)).toEqual([a, b]);
        expect((await stores.users.findById(a.userId))?.id).toBe(a.userId);
        // A login's statements: the user by email; its session and refresh token, apart (a
        // cookie login's session) or together (a token login's); the cap's list, with the account or without.
        expect(await stores.users.findByEmail(user.email)).toEqual(user);
        await stores.sessions.create(makeSession(user.id));
        await stores.refreshTokens.create(makeRefresh(a));
        const session = makeSession(user.id);
        expect(await stores.refreshTokens.createWithSession!(session, makeRefresh(session), stores.sessions)).toBe(true);
        expect((await stores.sessions.listActive(user.id, T0)).length).toBe(2 * i + 3);
        expect((await stores.sessions.listActiveWithAccount!(user.id, T0)).sessions.length).toBe(2 * i + 3);
      }
      const names = await prepared();
      // The two batched reads, and the six statements of logins.
      expect(names).toHaveLength(8);
      for (const name of names) expect(name).toMatch(/^tessera_[0-9a-f]{32}$/);
    } finally {
      await stores.close();
    }
  });

  // PgBouncer in transaction mode before 1.21 hands the next transaction another server
  // connection, where the statement pg believes prepared does not exist (26000).
  it('a named statement gone from the server connection: the lookup is retried unnamed, and names stay off', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 1 });
    const stores = await createPostgresStores({ pool, schema: `batch_${++schemas}`, preparedStatements: true });
    try {
      const a = await seedSession(stores, { kind: 'cookie' });
      // Each round drops every statement behind pg's back, as a pooler switching server connection
      // would. (pg.Pool then replaces the connection whose query failed.)
      for (let round = 0; round < 3; round++) {
        expect((await stores.sessions.getWithUser(a.id))?.session).toEqual(a);
        expect((await stores.users.findById(a.userId))?.id).toBe(a.userId);
        await pool.query('DEALLOCATE ALL');
        expect((await Promise.all([a.id, a.id].map((id) => stores.sessions.getWithUser(id)))).map((f) => f?.session)).toEqual([a, a]);
        expect((await stores.users.findById(a.userId))?.id).toBe(a.userId);
      }
      expect((await pool.query('SELECT name FROM pg_prepared_statements')).rows).toEqual([]);
    } finally {
      await stores.close();
    }
  });

  it('close waits for lookups asked for before it, though their batch was not sent yet', async () => {
    const { stores } = await open();
    const session = await seedSession(stores, { kind: 'cookie' });
    const pending = Promise.all([stores.sessions.getWithUser(session.id), stores.users.findById(session.userId)]);
    await stores.close();
    const [found, user] = await pending;
    expect(found?.session).toEqual(session);
    expect(user?.id).toBe(session.userId);
    await expect(stores.sessions.getWithUser(session.id)).rejects.toThrow('closed');
  });
});

describePostgres('postgres: per-turn rotation batching', (database) => {
  const open = () => openCounting(database().url);

  /** `n` live refresh tokens of one session, stored. */
  async function tokens(stores: Stores, n: number) {
    const session = await seedSession(stores);
    const all = Array.from({ length: n }, () => makeRefresh(session));
    for (const t of all) await stores.refreshTokens.create(t);
    return { session, all };
  }

  it('the rotations of one turn are one statement; each token gets its own successor', async () => {
    const { stores, sent } = await open();
    try {
      const { session, all } = await tokens(stores, 6);
      const successors = all.map(() => makeRefresh(session, { createdAt: T0 + 5 }));
      sent.length = 0;
      const results = await Promise.all(all.map((t, i) => stores.refreshTokens.rotate(t.id, successors[i]!, T0 + 5)));
      expect(results).toEqual(all.map(() => ({ status: 'rotated' })));
      expect(sent).toHaveLength(1);
      expect(batchedRotations(sent)).toHaveLength(1);
      for (const [i, t] of all.entries()) {
        expect(await stores.refreshTokens.get(t.id)).toEqual({ ...t, rotatedAt: T0 + 5, successorId: successors[i]!.id });
        expect(await stores.refreshTokens.get(successors[i]!.id)).toEqual(successors[i]);
      }
    } finally {
      await stores.close();
    }
  });

  // Two tabs refreshing one token in the same turn derive the same successor.
  it('one token rotated twice in one turn, to the same successor: one rotation wins, the other names it', async () => {
    const { stores } = await open();
    try {
      const { session, all } = await tokens(stores, 1);
      const old = all[0]!;
      const next = makeRefresh(session);
      const results = await Promise.all([
        stores.refreshTokens.rotate(old.id, next, T0 + 1),
        stores.refreshTokens.rotate(old.id, next, T0 + 2),
      ]);
      expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
      const other = results.find((r) => r.status !== 'rotated');
      expect(other).toEqual({
        status: 'already-rotated',
        rotatedAt: (await stores.refreshTokens.get(old.id))!.rotatedAt,
        successorId: next.id,
      });
      expect(await stores.refreshTokens.get(next.id)).toEqual(next);
    } finally {
      await stores.close();
    }
  });

  it('a successor id taken fails that rotation alone: the rest of its turn rotate, its token stays live', async () => {
    const { stores, sent } = await open();
    try {
      const { session, all } = await tokens(stores, 3);
      const [a, b, c] = all as [ReturnType<typeof makeRefresh>, ReturnType<typeof makeRefresh>, ReturnType<typeof makeRefresh>];
      const nextA = makeRefresh(session);
      const nextC = makeRefresh(session);
      sent.length = 0;
      const results = await Promise.allSettled([
        stores.refreshTokens.rotate(a.id, nextA, T0 + 1),
        // b's successor would take c's id.
        stores.refreshTokens.rotate(b.id, makeRefresh(session, { id: c.id }), T0 + 1),
        stores.refreshTokens.rotate('rt_nobody', makeRefresh(session), T0 + 1),
        stores.refreshTokens.rotate(c.id, nextC, T0 + 1),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
        { status: 'rotated' },
        'rejected',
        { status: 'not-found' },
        { status: 'rotated' },
      ]);
      expect(isStoreUnavailable((results[1] as PromiseRejectedResult).reason)).toBe(false);
      expect(batchedRotations(sent)).toHaveLength(1);
      expect(await stores.refreshTokens.get(b.id)).toEqual(b);
      expect((await stores.refreshTokens.get(a.id))?.successorId).toBe(nextA.id);
      expect((await stores.refreshTokens.get(c.id))?.successorId).toBe(nextC.id);
    } finally {
      await stores.close();
    }
  });

  it('a batch cut off by an outage fails each rotation with the outage error and rotates nothing', async () => {
    const { stores, state } = await open();
    try {
      const { session, all } = await tokens(stores, 3);
      state.down = true;
      const results = await Promise.allSettled(all.map((t) => stores.refreshTokens.rotate(t.id, makeRefresh(session), T0 + 1)));
      state.down = false;
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const r of results) expect(isStoreUnavailable((r as PromiseRejectedResult).reason)).toBe(true);
      for (const t of all) expect(await stores.refreshTokens.get(t.id)).toEqual(t);
      expect(await stores.refreshTokens.rotate(all[0]!.id, makeRefresh(session), T0 + 2)).toEqual({ status: 'rotated' });
    } finally {
      await stores.close();
    }
  });

  it('close waits for rotations asked for before it: batched, losing, and going on alone after their batch failed', async () => {
    const { stores } = await open();
    const { session, all } = await tokens(stores, 2);
    const [a, b] = all as [RefreshToken, RefreshToken];
    const pending = Promise.allSettled([
      stores.refreshTokens.rotate(a.id, makeRefresh(session), T0 + 1),
      // Two rotations of b: the loser reads the winner's successor after the batch.
      stores.refreshTokens.rotate(b.id, makeRefresh(session), T0 + 1),
      stores.refreshTokens.rotate(b.id, makeRefresh(session), T0 + 1),
    ]);
    await stores.close();
    const results = (await pending).map((r) => (r.status === 'fulfilled' ? r.value.status : r.reason));
    expect(results.slice(0, 1)).toEqual(['rotated']);
    expect([...results.slice(1)].sort()).toEqual(['already-rotated', 'rotated']);

    // A batch that fails on one row (f's successor would take e's id): the others go on alone, and close waits.
    const again = await open();
    const more = await tokens(again.stores, 2);
    const [e, f] = more.all as [RefreshToken, RefreshToken];
    const failing = Promise.allSettled([
      again.stores.refreshTokens.rotate(e.id, makeRefresh(more.session), T0 + 1),
      again.stores.refreshTokens.rotate(f.id, makeRefresh(more.session, { id: e.id }), T0 + 1),
    ]);
    await again.stores.close();
    const [ok, taken] = await failing;
    expect(ok).toEqual({ status: 'fulfilled', value: { status: 'rotated' } });
    expect(taken?.status).toBe('rejected');
    expect((taken as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
  });

  it('a token whose row another transaction holds does not hold up its turn: the others rotate, it waits for the lock', async () => {
    const { stores } = await open();
    const locker = new pg.Client({ connectionString: database().url });
    await locker.connect();
    try {
      const { session, all } = await tokens(stores, 2);
      const [x, y] = all as [RefreshToken, RefreshToken];
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM batch_${schemas}.refresh_tokens WHERE id = $1 FOR UPDATE`, [x.id]);
      const nextX = makeRefresh(session);
      const nextY = makeRefresh(session);
      let xSettled = false;
      const rotatingX = stores.refreshTokens.rotate(x.id, nextX, T0 + 1).finally(() => {
        xSettled = true;
      });
      expect(await stores.refreshTokens.rotate(y.id, nextY, T0 + 1)).toEqual({ status: 'rotated' });
      // x can only be answered once the lock is let go.
      expect(xSettled).toBe(false);
      await locker.query('COMMIT');
      expect(await rotatingX).toEqual({ status: 'rotated' });
      expect((await stores.refreshTokens.get(x.id))?.successorId).toBe(nextX.id);
      expect((await stores.refreshTokens.get(y.id))?.successorId).toBe(nextY.id);
    } finally {
      await locker.end();
      await stores.close();
    }
  });
});
