import type { UserProfile, UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import type { redisKeys } from './keys.js';
import { defineScript } from './script.js';

// A copy of the user's profile lives in each of the user's session hashes, beside the session's
// own fields, so that a cookie lookup is one HMGET: `profile` (JSON), `profileExpiresAt` (ms,
// the copying node's clock) and `profileGeneration` (a counter every change of the user bumps).
// The copy shares the session's key, so both scripts below touch one key, on one cluster node.

/**
 * Writes the copy only while the session's profile generation is still the one read (with the
 * session) before the profile was read from the system of record: a change of the user that
 * landed in between bumped it, and its copy would be stale. Returns 1 when written.
 * KEYS: session. ARGV: generation read, profile JSON, expiresAt.
 */
const FILL = defineScript(`
if redis.call('HEXISTS', KEYS[1], 'userId') == 0 then return 0 end
if (redis.call('HGET', KEYS[1], 'profileGeneration') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'profile', ARGV[2], 'profileExpiresAt', ARGV[3])
return 1
`);

/**
 * Drops the session's copy and bumps its generation, so a fill racing the change writes nothing.
 * KEYS: session.
 */
const INVALIDATE = defineScript(`
if redis.call('HEXISTS', KEYS[1], 'userId') == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'profileGeneration', 1)
redis.call('HDEL', KEYS[1], 'profile', 'profileExpiresAt')
return 1
`);

/** Copies of user profiles in the user's session hashes, read with the session in one command. */
export interface ProfileCopies {
  /** The copy in a session's hash (as read with the session) while it is younger than its lifetime, else null. */
  fromHash(userId: string, hash: Record<string, string>, now: number): UserProfile | null;
  /**
   * The profile from the system of record (null: no such user), leaving a copy in the session's
   * hash unless a change of the user raced the read. `generation`: the session's
   * `profileGeneration` as read with the session, before this call.
   */
  load(sessionId: string, userId: string, generation: string, now: number): Promise<UserProfile | null>;
}

/** Profile copies that live `ttlMs` (on the clock of the node that made them). */
export function createProfileCopies(
  redis: RedisClient,
  keys: ReturnType<typeof redisKeys>,
  users: Pick<UserStore, 'findById'>,
  ttlMs: number,
): ProfileCopies {
  return {
    fromHash(userId, hash, now) {
      const json = hash.profile;
      if (json === undefined || !(Number(hash.profileExpiresAt) > now)) return null;
      const copy = JSON.parse(json) as Omit<UserProfile, 'id'>;
      return { id: userId, email: copy.email, name: copy.name, roles: copy.roles, disabledAt: copy.disabledAt };
    },
    async load(sessionId, userId, generation, now) {
      const user = await users.findById(userId);
      if (!user) return null;
      const profile: UserProfile = { id: user.id, email: user.email, name: user.name, roles: user.roles, disabledAt: user.disabledAt };
      const json = JSON.stringify({ email: profile.email, name: profile.name, roles: profile.roles, disabledAt: profile.disabledAt });
      await FILL(redis, [keys.session(sessionId)], [generation, json, now + ttlMs]);
      return profile;
    },
  };
}

/**
 * Drops the copies of a user's profile from every session of the user (found through the
 * user's session index, which lists a session before its hash exists), after a change of the
 * user in the system of record. A fill that read the profile before the change and writes after
 * it finds the generation bumped; a session created after the index was read is looked up
 * after the change, so its first fill reads the changed profile.
 */
export function profileInvalidator(redis: RedisClient, keys: ReturnType<typeof redisKeys>): { invalidate(userId: string): Promise<void> } {
  return {
    async invalidate(userId) {
      const ids = await redis.zrange(keys.userSessions(userId), 0, -1);
      await Promise.all(ids.map((id) => INVALIDATE(redis, [keys.session(id)], [])));
    },
  };
}

/**
 * `users` whose every change to what a profile holds (roles, disabled mark, deletion) drops the user's profile
 * copies after it lands in the system of record. A change whose copies cannot be dropped (Redis
 * unreachable) rejects with Redis' error, though the change itself stands: the caller learns the
 * copies may be stale until they expire.
 */
export function withProfileInvalidation(users: UserStore, copies: { invalidate(userId: string): Promise<void> }): UserStore {
  const after = async <T>(userId: string, change: Promise<T>): Promise<T> => {
    const result = await change;
    await copies.invalidate(userId);
    return result;
  };
  return {
    create: (user) => users.create(user),
    findById: (id) => users.findById(id),
    findByEmail: (email) => users.findByEmail(email),
    list: (page) => users.list(page),
    // A profile holds no password: a new one leaves the copies as they are.
    updatePassword: (id, change, now) => users.updatePassword(id, change, now),
    changeRoles: (id, change, now) => after(id, users.changeRoles(id, change, now)),
    setDisabled: (id, disabledAt, now) => after(id, users.setDisabled(id, disabledAt, now)),
    delete: (id) => after(id, users.delete(id)),
  };
}
