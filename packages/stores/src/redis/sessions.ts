import { listActivePage } from '../lib/session-list.js';
import type { Session, SessionStore, User, UserProfile, UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import type { HashReader } from './hash-reader.js';
import { DEFAULT_PREFIX, redisKeys, SESSION_SHARDS, sessionShard } from './keys.js';
import { createProfileCopies, type ProfileCopies } from './profiles.js';
import { hashFromValues, SESSION_HASH_FIELDS, sessionFromHash, sessionToFields } from './session-hash.js';
import { SessionOwners } from './session-owners.js';
import { CREATE, INDEX, REVOKE, SWEEP, TOUCH } from './session-scripts.js';

/** Expiry-shard candidates re-checked per script call: bounds the time one call holds its node. */
const SWEEP_BATCH = 128;

/** Default lifetime of a profile copy (see {@link RedisSessionStoreOptions.profileCopyTtlMs}). */
export const DEFAULT_PROFILE_COPY_TTL_MS = 30_000;

const toProfile = (user: User | null): UserProfile | null =>
  user ? { id: user.id, email: user.email, name: user.name, roles: user.roles, disabledAt: user.disabledAt } : null;

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /**
   * Where `getWithUser` reads the user's profile (the system of record, usually SQL). Required.
   * Read on every lookup: a store that batches `findById` per turn (PostgreSQL's does) keeps that
   * read to one query per turn.
   */
  users: Pick<UserStore, 'findById'>;
  /** Prepended to every key, so several deployments can share a Redis. Default `'tessera:'`. */
  prefix?: string;
  /**
   * How long a copy of the user's profile kept in a session's hash answers lookups of that
   * session, so that a lookup is one Redis command and no query to the system of record. Default
   * 30,000 ms. Every change through the user store returned by {@link withRedisStores} drops the
   * copies at once; a change made behind it (an UPDATE by hand) shows within this time. 0: no
   * copies, the profile is read from `users` on every lookup.
   */
  profileCopyTtlMs?: number;
  /** The clock profile copies are aged by. Default `Date.now`. */
  clock?: () => number;
  /**
   * Without profile copies: how many sessions' owners (session id → user id) `getWithUser`
   * remembers, to read the session and the profile in parallel. Default 10,000 (about a
   * megabyte); 0 reads them in sequence.
   */
  knownOwners?: number;
  /**
   * What session hashes are read through (HMGET). Default: `redis` itself. `openStores` passes a
   * {@link HashReader} on a single Redis, which makes the read of every cookie-authenticated
   * request cheaper and falls back to `redis` whenever its own connection is down.
   */
  reader?: Pick<HashReader, 'hmget'>;
}

/**
 * Redis {@link SessionStore}, for Redis or Redis Cluster. Every state change of a session (create,
 * touch, revoke, delete) is one Lua script over the session and its expiry shard, which share a
 * hash tag (see `keys.ts`): `revoke` is true for one caller only, `touch` never revives a revoked
 * session. A session key expires with its absolute lifetime (its TTL is `absoluteExpiresAt -
 * createdAt` from creation, measured on Redis' clock, so a skewed clock between nodes and Redis
 * does not shorten it); idle expiry and revocation are fields callers check, as on every backend,
 * and `deleteExpired` removes those sessions.
 *
 * The per-user index (a sorted set by createdAt) lives in the user's own slot, written before the
 * session: an entry whose session is missing or another user's is skipped on read and pruned by
 * `deleteExpired`, while a session is never left out of its user's "log out everywhere".
 *
 * `getWithUser` reads the session and its user's profile in one HMGET: the session's hash also
 * holds a copy of the profile (see `profiles.ts`), made from `users` on the first lookup and again
 * once it is `profileCopyTtlMs` old, and dropped from every session of the user by each change to
 * the user made through the store {@link withRedisStores} returns (on every node, since they share
 * Redis), with a fill that raced such a change writing nothing; a change made behind the store
 * shows when the copy ages out. Under load, `openRedis`' auto-pipelining sends one turn's lookups
 * in one socket write. Without copies (`profileCopyTtlMs: 0`) the profile is read from `users`
 * every time (the PostgreSQL user store batches one turn's `findById` calls into one query); once
 * a node has looked a session up it knows which user the session belongs to (an immutable
 * binding, kept in a bounded {@link SessionOwners}), so later lookups send both reads at once,
 * and the session read still decides: were its `userId` ever different, the profile read is
 * dropped and the right one made.
 *
 * @example
 * const sessions = createRedisSessionStore(await openRedis(url), { users: sqlStores.users });
 */
export function createRedisSessionStore(redis: RedisClient, options: RedisSessionStoreOptions): SessionStore {
  const { users } = options;
  if (!users) throw new TypeError('createRedisSessionStore: options.users is required (getWithUser reads profiles from it)');
  const keys = redisKeys(options.prefix ?? DEFAULT_PREFIX);
  const sessionKeys = (id: string): [string, string] => [keys.session(id), keys.expiryShard(sessionShard(id))];
  const owners = new SessionOwners(options.knownOwners);
  const copyTtl = options.profileCopyTtlMs ?? DEFAULT_PROFILE_COPY_TTL_MS;
  if (!Number.isInteger(copyTtl) || copyTtl < 0)
    throw new TypeError('createRedisSessionStore: profileCopyTtlMs must be a whole number ≥ 0');
  const copies = copyTtl > 0 ? createProfileCopies(redis, keys, users, copyTtl) : null;
  const clock = options.clock ?? Date.now;
  const reader = options.reader ?? { hmget: (key: string, fields: readonly string[]) => redis.hmget(key, ...fields) };
  /** The session's hash, profile copy included; empty when there is no such session. */
  const readHash = async (id: string): Promise<Record<string, string>> =>
    hashFromValues(await reader.hmget(keys.session(id), SESSION_HASH_FIELDS));

  /** The session and the profile copy beside it in one read, the copy renewed from `users` when missing or aged. */
  const withCopiedProfile = async (copies: ProfileCopies, id: string): Promise<{ session: Session; user: UserProfile } | null> => {
    const hash = await readHash(id);
    const session = sessionFromHash(id, hash);
    if (!session) return null;
    const now = clock();
    const user = copies.fromHash(session.userId, hash, now) ?? (await copies.load(id, session.userId, hash.profileGeneration ?? '0', now));
    return user ? { session, user } : null;
  };

  const get = async (id: string): Promise<Session | null> => sessionFromHash(id, await readHash(id));

  const revoke = async (id: string, now: number, ofUser = ''): Promise<boolean> =>
    (await REVOKE(redis, sessionKeys(id), [id, now, ofUser])) === 1;

  /** Drops index entries of deleted sessions, grouped by user (one ZREM per user). */
  const unindex = async (members: readonly string[]): Promise<void> => {
    const byUser = new Map<string, string[]>();
    for (const member of members) {
      const [userId, id] = JSON.parse(member) as [string, string];
      const ids = byUser.get(userId);
      if (ids) ids.push(id);
      else byUser.set(userId, [id]);
    }
    await Promise.all([...byUser].map(([userId, ids]) => redis.zrem(keys.userSessions(userId), ...ids)));
  };

  const sweepShard = async (shard: number, before: number): Promise<number> => {
    const shardKey = keys.expiryShard(shard);
    let deleted = 0;
    for (;;) {
      const members = await redis.zrangebyscore(shardKey, '-inf', `(${before}`, 'LIMIT', 0, SWEEP_BATCH);
      if (members.length === 0) return deleted;
      const ids = members.map((m) => (JSON.parse(m) as [string, string])[1]);
      const [dead, gone] = (await SWEEP(redis, [shardKey, ...ids.map(keys.session)], [before, ...members])) as [string[], string[]];
      deleted += dead.length;
      await unindex([...dead, ...gone]);
      // Each pass deletes, drops or re-scores every candidate past the cutoff, so this ends.
      if (members.length < SWEEP_BATCH) return deleted;
    }
  };

  /** The user's sessions, from the index, leaving out entries whose session is gone or not theirs. */
  const userSessions = async (userId: string): Promise<Session[]> => {
    const ids = await redis.zrange(keys.userSessions(userId), 0, -1);
    const sessions = await Promise.all(ids.map(get));
    return sessions.filter((s): s is Session => s !== null && s.userId === userId);
  };

  return {
    async create(session) {
      // Not Redis' clock but the session's own span, so a frozen or skewed caller clock still
      // gets the lifetime it asked for; PEXPIRE refuses 0.
      const ttl = Math.max(1, Math.ceil(session.absoluteExpiresAt - session.createdAt));
      const hint = Math.min(session.idleExpiresAt, session.absoluteExpiresAt, session.revokedAt ?? Number.POSITIVE_INFINITY);
      // Index first: if the process dies between the two writes, what is left is an index entry
      // without a session (skipped), never a session that "log out everywhere" cannot find.
      await INDEX(redis, [keys.userSessions(session.userId)], [session.createdAt, session.id, ttl]);
      const created = await CREATE(redis, sessionKeys(session.id), [session.id, session.userId, ttl, hint, ...sessionToFields(session)]);
      if (created !== 1) throw new Error('a session with this id already exists');
    },

    get,

    async getWithUser(id) {
      if (copies) return withCopiedProfile(copies, id);
      const owner = owners.get(id);
      // Started before the session is read, so both are on the wire together; its error, if any,
      // is only reported when it turns out to be the read this lookup needed.
      const speculative = owner === undefined ? undefined : users.findById(owner).then(toProfile);
      speculative?.catch(() => {});
      const session = await get(id);
      if (!session) {
        owners.delete(id);
        return null;
      }
      let user: UserProfile | null;
      if (speculative && session.userId === owner) user = await speculative;
      else {
        owners.set(id, session.userId);
        user = toProfile(await users.findById(session.userId));
      }
      return user ? { session, user } : null;
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      await TOUCH(redis, sessionKeys(id), [id, lastSeenAt, idleExpiresAt]);
    },

    async listActive(userId, now, page) {
      const [sessions, last] = await Promise.all([userSessions(userId), page?.after === undefined ? null : get(page.after)]);
      return listActivePage(sessions, userId, now, page, last);
    },

    revoke: (id, now) => revoke(id, now),

    async revokeMany(ids, now) {
      const won = await Promise.all(ids.map((id) => revoke(id, now)));
      return ids.filter((_, i) => won[i]);
    },

    async revokeUser(userId, now, exceptId) {
      const ids = (await redis.zrange(keys.userSessions(userId), 0, -1)).filter((id) => id !== exceptId);
      // Only sessions that really are this user's: an index entry never revokes someone else's.
      const won = await Promise.all(ids.map((id) => revoke(id, now, userId)));
      return ids.filter((_, i) => won[i]);
    },

    async deleteExpired(before) {
      const counts = await Promise.all(Array.from({ length: SESSION_SHARDS }, (_, shard) => sweepShard(shard, before)));
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}
