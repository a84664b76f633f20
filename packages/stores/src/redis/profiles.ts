import type { UserProfile, UserStore } from '../types.js';
import type { RedisClient } from './client.js';
import type { redisKeys } from './keys.js';
import { defineScript } from './script.js';

/**
 * Writes the copy only while the user's generation is still the one read before the profile was
 * read from the system of record: a change that landed in between bumped it, and its copy would
 * be stale. Returns 1 when written.
 * KEYS: profile, generation. ARGV: generation read ('' for none), profile JSON, ttlMs.
 */
const FILL = defineScript(`
local g = redis.call('GET', KEYS[2]) or ''
if g ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

/**
 * Bumps the user's generation (so a fill racing this change writes nothing) and drops the copy.
 * KEYS: profile, generation. ARGV: generation ttlMs.
 */
const INVALIDATE = defineScript(`
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * How long a generation outlives the last change: far longer than a fill takes (the read of the
 * generation, one `findById`, the script), so an expired counter never lets a stale fill in.
 */
const GENERATION_TTL_MS = 24 * 60 * 60 * 1000;

/** Copies of user profiles in Redis, beside the sessions that need them on every lookup. */
export interface ProfileCopies {
  /** The copy, or null when there is none (never made, expired, or dropped by a change). */
  read(userId: string): Promise<UserProfile | null>;
  /** The profile from the system of record (null: no such user), leaving a copy unless a change raced the read. */
  load(userId: string): Promise<UserProfile | null>;
  /** Drops the copy after a change of the user in the system of record; fills already under way write nothing. */
  invalidate(userId: string): Promise<void>;
}

/**
 * Profile copies with a lifetime of `ttlMs`. Every change made through the user store of
 * {@link withProfileInvalidation} drops the copy at once, on every node (they share Redis); a
 * change made behind the store (an UPDATE by hand) shows once the copy expires.
 */
export function createProfileCopies(
  redis: RedisClient,
  keys: ReturnType<typeof redisKeys>,
  users: Pick<UserStore, 'findById'>,
  ttlMs: number,
): ProfileCopies {
  const pair = (userId: string): [string, string] => [keys.profile(userId), keys.profileGeneration(userId)];
  return {
    ...profileInvalidator(redis, keys),
    async read(userId) {
      const json = await redis.get(keys.profile(userId));
      if (json === null) return null;
      const copy = JSON.parse(json) as Omit<UserProfile, 'id'>;
      return { id: userId, email: copy.email, name: copy.name, roles: copy.roles, disabledAt: copy.disabledAt ?? null };
    },
    async load(userId) {
      const generation = (await redis.get(keys.profileGeneration(userId))) ?? '';
      const user = await users.findById(userId);
      if (!user) return null;
      const profile: UserProfile = { id: user.id, email: user.email, name: user.name, roles: user.roles, disabledAt: user.disabledAt };
      await FILL(redis, pair(userId), [
        generation,
        JSON.stringify({ email: profile.email, name: profile.name, roles: profile.roles, disabledAt: profile.disabledAt }),
        ttlMs,
      ]);
      return profile;
    },
  };
}

/** The invalidating half of {@link ProfileCopies}: what a writer of users needs. */
export function profileInvalidator(redis: RedisClient, keys: ReturnType<typeof redisKeys>): Pick<ProfileCopies, 'invalidate'> {
  return {
    async invalidate(userId) {
      await INVALIDATE(redis, [keys.profile(userId), keys.profileGeneration(userId)], [GENERATION_TTL_MS]);
    },
  };
}

/**
 * `users` whose every change (roles, disabled mark, deletion, password) drops the user's profile
 * copy after it lands in the system of record. A change whose copy cannot be dropped (Redis
 * unreachable) rejects with Redis' error, though the change itself stands: the caller learns the
 * copy may be stale until it expires.
 */
export function withProfileInvalidation(users: UserStore, copies: Pick<ProfileCopies, 'invalidate'>): UserStore {
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
    updatePassword: (id, change, now) => after(id, users.updatePassword(id, change, now)),
    changeRoles: (id, change, now) => after(id, users.changeRoles(id, change, now)),
    setDisabled: (id, disabledAt, now) => after(id, users.setDisabled(id, disabledAt, now)),
    delete: (id) => after(id, users.delete(id)),
  };
}
