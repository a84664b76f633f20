import type { RedisClient } from './client.js';
import { InvalidRedisUrlError, parseRedisUrl } from './url.js';

export { InvalidRedisUrlError };

/** Options of {@link openRedis}. */
export interface OpenRedisOptions {
  /**
   * Connect to a Redis Cluster through this one seed URL. Default false; several URLs always
   * mean a cluster (each a seed node).
   */
  cluster?: boolean;
  /**
   * How many reconnections a command waits through before it fails with an error that
   * `isStoreUnavailable` recognises (a 503). Default 1: during an outage, a request should fail
   * closed quickly rather than hang through ioredis' default of 20.
   */
  maxRetriesPerRequest?: number;
  /** Milliseconds to wait for a TCP connection. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Milliseconds a command waits for its reply before failing with an error `isStoreUnavailable`
   * recognises. Default 2000: a Redis that stops answering without closing the connection (a
   * partition, a frozen host) otherwise holds every request that needs it until the HTTP timeout.
   */
  commandTimeoutMs?: number;
  /**
   * Send the commands issued in one turn of the event loop as one pipeline per node (ioredis'
   * `enableAutoPipelining`). Default true: the session read of every request that carries a
   * cookie is then one socket write per turn, not one per request, on both ends. Each command
   * still gets its own reply or error, and none is cached or reordered: only their writes are
   * grouped. While one turn's pipeline awaits its replies, the next turn's commands queue behind it.
   */
  autoPipelining?: boolean;
  /**
   * Called with each connection error. Default: none (the error is dropped here; the commands
   * waiting on the connection fail with their own errors, which `isStoreUnavailable` recognises).
   * Without a listener ioredis would print every reconnection failure to stderr.
   */
  onError?: (err: Error) => void;
}

/**
 * Connects to Redis (one URL) or to a Redis Cluster (several seed URLs, or `cluster: true`),
 * loading ioredis only now, so importing @tessera/stores loads no Redis driver. The client
 * connects in the background; commands wait for it (up to `maxRetriesPerRequest` reconnections).
 * Close it with `quit()`.
 *
 * @example
 * const redis = await openRedis(process.env.TESSERA_REDIS_URL!);
 * const cluster = await openRedis(['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379']);
 */
export async function openRedis(url: string | readonly string[], options: OpenRedisOptions = {}): Promise<RedisClient> {
  const urls = typeof url === 'string' ? [url] : [...url];
  if (urls.length === 0) throw new InvalidRedisUrlError('openRedis: at least one Redis URL is required');
  const endpoints = urls.map(parseRedisUrl);
  const common = {
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    enableAutoPipelining: options.autoPipelining ?? true,
  };
  const { Redis, Cluster } = await import('ioredis');
  const onError = options.onError ?? (() => {});
  if (endpoints.length === 1 && !options.cluster) return new Redis({ ...common, ...endpoints[0]! }).on('error', onError);
  // Cluster nodes share credentials and TLS; the seeds only say where to start.
  const { username, password, tls } = endpoints[0]!;
  if (endpoints.some((e) => e.db !== undefined && e.db !== 0)) throw new InvalidRedisUrlError('Redis URL: a cluster has only database 0');
  const { enableAutoPipelining, ...perNode } = common;
  return new Cluster(
    endpoints.map(({ host, port }) => ({ host, port })),
    // A cluster groups its pipelines per node itself: the option belongs to it, not to each node.
    { enableAutoPipelining, redisOptions: { ...perNode, username, password, tls } },
  ).on('error', onError);
}
