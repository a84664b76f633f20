// The rows of bench:verify, in the order they run and print: each names its server, path,
// request headers (cycled through, one per request), the baseline its ratio is read against and
// the target it is judged by.
import type { Ready } from './protocol.js';

/** One measured row. */
export interface Row {
  name: string;
  url: string | null;
  path: string;
  /** Cycled through, one per request. */
  headers: Record<string, string>[];
  baseline: string;
  /** Met when this row's req/s over `versus`'s, paired by round, is at least `min`. */
  target?: { describe: string; versus: string; min: number };
  skipped?: string;
}

// Row names are the keys of bench/results/verify.json: renaming one breaks the comparison with earlier runs.

/** The smallest-possible reference, every Fastify row's baseline. */
export const FASTIFY = 'Fastify: no auth (GET /healthz)';
/** The cache-hit target's baseline: the same route and answer as the Tessera rows, no token sent. */
export const CONTROL = 'Fastify: no auth, same route and body, no token';
/** The same route, headers and answer as the verified rows, the claims decoded without any check. */
export const PLAIN = 'Fastify: no auth, same route and body (claims decoded unchecked)';
/** The cache-miss target's comparison: fast-jwt, its cache off, a fresh token per request. */
export const FAST_JWT = 'Fastify: fast-jwt verifier, cache off, fresh token';
/** Tessera verifying a fresh token per request: a full verification each time. */
export const MISS = 'Fastify: Tessera, fresh token (cache miss)';
/** Tessera answering a repeated token from its verified-token cache. */
export const HIT = 'Fastify: Tessera, repeated token (cache hit)';

/** The header lists rows send: one entry for a repeated token, one per request for fresh tokens or cookies. */
export interface RowHeaders {
  /** The same token on every request (the verified-token cache path). */
  one: Record<string, string>[];
  /** Distinct tokens, never repeated before the service's cache has evicted them. */
  fresh: Record<string, string>[];
}

/** Every row, skipped ones (no Redis) included so the report can say why they are missing. */
export function verifyRows(ready: Ready, { one, fresh }: RowHeaders): Row[] {
  const cookies = (list: string[]) => list.map((cookie) => ({ cookie }));
  return [
    { name: FASTIFY, url: ready.urls.fastify, path: '/healthz', headers: [{}], baseline: FASTIFY },
    { name: CONTROL, url: ready.urls.control, path: '/whoami', headers: [{}], baseline: FASTIFY },
    { name: PLAIN, url: ready.urls.plain, path: '/whoami', headers: one, baseline: FASTIFY },
    {
      name: HIT,
      url: ready.urls.fastify,
      path: '/whoami',
      headers: one,
      baseline: FASTIFY,
      target: { describe: '≥ 85% of the same route without auth', versus: CONTROL, min: 0.85 },
    },
    {
      name: MISS,
      url: ready.urls.fastify,
      path: '/whoami',
      headers: fresh,
      baseline: FASTIFY,
      target: { describe: '≥ 95% of fast-jwt', versus: FAST_JWT, min: 0.95 },
    },
    { name: FAST_JWT, url: ready.urls.fastJwt, path: '/whoami', headers: fresh, baseline: FASTIFY },
    {
      name: 'Fastify: cookie session, SQLite',
      url: ready.urls.sqlite,
      path: '/whoami',
      headers: cookies(ready.cookies.sqlite),
      baseline: FASTIFY,
    },
    {
      name: 'Fastify: cookie session, Redis',
      url: ready.urls.redis,
      path: '/whoami',
      headers: cookies(ready.cookies.redis),
      baseline: FASTIFY,
      ...(ready.redisSkipped ? { skipped: ready.redisSkipped } : {}),
    },
    { name: 'Express: no auth', url: ready.urls.express, path: '/healthz', headers: [{}], baseline: 'Express: no auth' },
    { name: 'Express: tesseraAuth (cache hit)', url: ready.urls.express, path: '/whoami', headers: one, baseline: 'Express: no auth' },
    { name: 'Hono: no auth', url: ready.urls.hono, path: '/healthz', headers: [{}], baseline: 'Hono: no auth' },
    { name: 'Hono: tesseraAuth (cache hit)', url: ready.urls.hono, path: '/whoami', headers: one, baseline: 'Hono: no auth' },
  ];
}

/**
 * The rows BENCH_ROWS asks for (words matched against row names, e.g. `hit,Hono`; all when unset),
 * plus the baselines and targets' comparison rows they are measured against. `partial` is true
 * when BENCH_ROWS was set: such a run must not overwrite the full results file.
 */
export function selectRows(rows: Row[]): { wanted: Set<string>; active: Row[]; partial: boolean } {
  const only = (process.env.BENCH_ROWS ?? '').split(',').filter(Boolean);
  const wanted = new Set(rows.filter((r) => only.length === 0 || only.some((w) => r.name.includes(w))).map((r) => r.name));
  for (const r of rows.filter((x) => wanted.has(x.name))) {
    wanted.add(r.baseline);
    if (r.target) wanted.add(r.target.versus);
  }
  const active = rows.filter((r) => !r.skipped && r.url !== null && wanted.has(r.name));
  return { wanted, active, partial: only.length > 0 };
}
