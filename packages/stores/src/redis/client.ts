/**
 * The Redis commands the stores use, typed structurally: an ioredis `Redis` or `Cluster` client
 * fits, and so does any client offering these few methods, without @tessera/stores' types
 * depending on the driver's.
 */
export interface RedisClient {
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  zrange(key: string, start: number | string, stop: number | string): Promise<string[]>;
  zrangebyscore(key: string, min: number | string, max: number | string, limit: 'LIMIT', offset: number, count: number): Promise<string[]>;
  zrem(key: string, ...members: string[]): Promise<number>;
  del(key: string): Promise<number>;
  set(key: string, value: string, px: 'PX', milliseconds: number): Promise<unknown>;
  /** Closes the connections once pending replies have arrived. */
  quit(): Promise<unknown>;
}
