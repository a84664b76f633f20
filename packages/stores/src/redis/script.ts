import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/** Runs one Lua script with `keys` (all in one hash slot on a cluster) and `args`. */
type Script = (redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/**
 * A Lua script, sent by its SHA-1 and loaded on a node only when that node answers NOSCRIPT
 * (after a restart or a failover, or the first time): the common call carries 40 bytes, not the
 * whole script. A script runs atomically on its node, which is what every guarantee here rests on.
 */
export function defineScript(lua: string): Script {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      // NOSCRIPT means the script did not run, so running it by EVAL cannot apply it twice.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
