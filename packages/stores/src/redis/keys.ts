/** The key prefix when none is given. */
export const DEFAULT_PREFIX = 'tessera:';

/**
 * How many shards the session expiry index is split into. Each shard is one hash tag, so a
 * cluster spreads them over its masters, and no single key takes every login's write. Part of
 * the key layout: changing it would orphan every stored session.
 */
export const SESSION_SHARDS = 256;

/**
 * Checks a key prefix. Braces are refused because a `{…}` in the prefix would become the hash tag
 * of every key, putting them all in one cluster slot; glob characters because cleaning up by
 * pattern (SCAN MATCH prefix*) must match the prefix literally.
 */
function checkPrefix(prefix: string): string {
  if (/[{}*?[\]\\]/.test(prefix)) throw new RangeError('Redis key prefix must not contain braces or glob characters ({ } * ? [ ] \\)');
  return prefix;
}

/** FNV-1a over the id's UTF-16 code units: stable across processes and versions, unlike a seeded hash. */
export function sessionShard(sessionId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) {
    h ^= sessionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SESSION_SHARDS;
}

/**
 * Key names. The part in braces is the cluster hash tag: keys a script touches together share it.
 *
 * - `<prefix>{s<shard>}:s:<sid>` — a session (hash), its shard derived from the id, so `get` needs
 *   nothing but the id;
 * - `<prefix>{s<shard>}:expiry` — that shard's expiry index (sorted set), updated in the same
 *   script as the session;
 * - `<prefix>{u:<userId>}:sessions` — a user's sessions (sorted set by createdAt);
 * - `<prefix>rl:<key>` — a login-failure counter (hash), one key per script.
 */
interface RedisKeys {
  session(sessionId: string): string;
  expiryShard(shard: number): string;
  userSessions(userId: string): string;
  rateLimit(key: string): string;
}

/** The key names under `prefix` (see {@link RedisKeys}). */
export function redisKeys(prefix: string): RedisKeys {
  checkPrefix(prefix);
  return {
    session: (sessionId) => `${prefix}{s${sessionShard(sessionId)}}:s:${sessionId}`,
    expiryShard: (shard) => `${prefix}{s${shard}}:expiry`,
    userSessions: (userId) => `${prefix}{u:${userId}}:sessions`,
    rateLimit: (key) => `${prefix}rl:${key}`,
  };
}
