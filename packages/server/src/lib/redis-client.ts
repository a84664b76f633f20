import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for the revocation channel, from `TESSERA_REDIS_URL` as the stores read it:
 * one `redis://`/`rediss://` URL, or several comma-separated seed URLs of a Redis Cluster (whose
 * PUBLISH reaches subscribers on every node). Seeds share the first URL's credentials and TLS.
 */
export function connectRedis(url: string, options: RedisOptions): Redis | Cluster {
  const urls = url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length <= 1) return new Redis(urls[0] ?? url, options);
  const seeds = urls.map((u) => new URL(u));
  const first = seeds[0] as URL;
  return new Cluster(
    seeds.map((s) => ({ host: s.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: s.port === '' ? 6379 : Number(s.port) })),
    {
      redisOptions: {
        ...options,
        ...(first.username !== '' && { username: decodeURIComponent(first.username) }),
        ...(first.password !== '' && { password: decodeURIComponent(first.password) }),
        ...(first.protocol === 'rediss:' && { tls: {} }),
      },
    },
  );
}
