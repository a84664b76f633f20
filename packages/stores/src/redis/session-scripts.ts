import { defineScript } from './script.js';

// Every script here touches one session and the expiry shard of that session: both carry the
// shard's hash tag, so each runs on one cluster node, atomically. An expiry-shard member is
// cjson.encode({userId, sessionId}), built only in Lua so every script spells it the same way;
// its score is a hint, the earliest instant the session can be dead (min of its expiries and
// revokedAt), never later than the truth, so the sweep can trust "not yet" and re-checks the rest.

/**
 * Creates a session unless its id exists. Returns 1, or 0 for a duplicate id.
 * KEYS: session, shard. ARGV: sessionId, userId, ttlMs, hint, field, value, …
 */
export const CREATE = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], cjson.encode({ARGV[2], ARGV[1]}))
return 1
`);

/**
 * Adds a session to its user's index and keeps the index alive at least as long as the session.
 * KEYS: user index. ARGV: createdAt, sessionId, ttlMs.
 */
export const INDEX = defineScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`);

/**
 * Slides the idle expiry of an existing, unrevoked session. An earlier idle expiry than before
 * lowers the hint too (ZADD LT), so the sweep never finds a session later than it died.
 * KEYS: session, shard. ARGV: sessionId, lastSeenAt, idleExpiresAt.
 */
export const TOUCH = defineScript(`
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid or redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2], 'idleExpiresAt', ARGV[3])
redis.call('ZADD', KEYS[2], 'LT', ARGV[3], cjson.encode({uid, ARGV[1]}))
return 1
`);

/**
 * Revokes a session that exists and is not revoked yet (and, when ARGV[3] is not empty, belongs
 * to that user). Returns 1 for the one call that revoked it, 0 for every other.
 * KEYS: session, shard. ARGV: sessionId, now, userId or ''.
 */
export const REVOKE = defineScript(`
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid or (ARGV[3] ~= '' and uid ~= ARGV[3]) then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[2])
redis.call('ZADD', KEYS[2], 'LT', ARGV[2], cjson.encode({uid, ARGV[1]}))
return 1
`);

/**
 * Re-checks candidates of one shard (members whose hint is before the cutoff): deletes the
 * sessions expired or revoked before it, drops members whose session Redis already expired, and
 * moves the hint of the others up to their true one. Returns { deleted members, gone members }.
 * KEYS: shard, session of each candidate. ARGV: before, member of each candidate.
 */
export const SWEEP = defineScript(`
local before = tonumber(ARGV[1])
local deleted, gone = {}, {}
for i = 2, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'idleExpiresAt', 'absoluteExpiresAt', 'revokedAt')
  if not f[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    gone[#gone + 1] = ARGV[i]
  else
    local hint = f[1]
    if tonumber(f[2]) < tonumber(hint) then hint = f[2] end
    if f[3] and tonumber(f[3]) < tonumber(hint) then hint = f[3] end
    if tonumber(hint) < before then
      redis.call('DEL', KEYS[i])
      redis.call('ZREM', KEYS[1], ARGV[i])
      deleted[#deleted + 1] = ARGV[i]
    else
      redis.call('ZADD', KEYS[1], hint, ARGV[i])
    end
  end
end
return {deleted, gone}
`);
