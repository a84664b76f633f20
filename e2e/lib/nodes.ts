// Several auth nodes over one PostgreSQL database and one Redis, for e2e/many-nodes.test.ts:
// the shared environment, an SSE subscriber to a node's revocation feed, a subscriber to the
// Redis channel, and the percentile table. Nodes are real processes (packages/server/dist/bin.js).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { percentile } from './http.js';
import { type AuthServer, startAuthServer } from './processes.js';

/** The resource server allowed to read the revocation feed. */
export const FEED_CLIENT = { id: 'e2e-feed', secret: randomBytes(18).toString('base64url') };

/** What every node of one deployment shares: database, Redis (prefix and channel), issuer, KEK. */
export interface Deployment {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  redisChannel: string;
  issuer: string;
  kek: string;
}

/** A fresh deployment's shared settings (the database must exist). */
export function deployment(databaseUrl: string, redisUrl: string): Deployment {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return {
    databaseUrl,
    redisUrl,
    redisPrefix: `tessera-e2e-${tag}:`,
    redisChannel: `tessera-e2e-${tag}:revocations`,
    issuer: 'https://auth.e2e.test',
    kek: randomBytes(32).toString('base64url'),
  };
}

/** The environment of one node of `d`; `extra` overrides (a different KEK, say). */
export function nodeEnv(d: Deployment, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: d.databaseUrl,
    TESSERA_DATABASE_POOL_SIZE: '4',
    TESSERA_REDIS_URL: d.redisUrl,
    TESSERA_REDIS_PREFIX: d.redisPrefix,
    TESSERA_REDIS_CHANNEL: d.redisChannel,
    TESSERA_KEK: d.kek,
    TESSERA_RESOURCE_SERVERS: `${FEED_CLIENT.id}:${FEED_CLIENT.secret}`,
    // One client address (127.0.0.1) signs up every test user.
    TESSERA_SIGNUPS_PER_HOUR: '100000',
    // Reuse detection at once: a replayed refresh token is reuse, not a concurrent tab.
    TESSERA_REFRESH_GRACE: '0',
    ...extra,
  };
}

/** Starts one node of `d` on a free port. */
export function startNode(d: Deployment, extra: Record<string, string> = {}): Promise<AuthServer> {
  return startAuthServer({ issuer: d.issuer, env: nodeEnv(d, extra) });
}

/** Timestamps (performance.now) at which revocations of each session arrived at one subscriber. */
export interface Arrivals {
  readonly name: string;
  /** Cursors in arrival order (duplicates kept, to count them). */
  readonly cursors: string[];
  /** When the event for `sid` arrived, waiting up to `timeoutMs`. */
  arrival(sid: string, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

function arrivals(
  name: string,
): Arrivals & { record(e: { cursor: string; sid: string | null }): void; onClose(f: () => Promise<void>): void } {
  const seen = new Map<string, number>();
  const waiters = new Map<string, ((at: number) => void)[]>();
  const cursors: string[] = [];
  let close: () => Promise<void> = async () => {};
  return {
    name,
    cursors,
    record(e) {
      const at = performance.now();
      cursors.push(e.cursor);
      if (e.sid === null || seen.has(e.sid)) return;
      seen.set(e.sid, at);
      for (const w of waiters.get(e.sid) ?? []) w(at);
      waiters.delete(e.sid);
    },
    arrival(sid, timeoutMs = 5_000) {
      const at = seen.get(sid);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no revocation of ${sid} within ${timeoutMs} ms`)), timeoutMs);
        const list = waiters.get(sid) ?? [];
        list.push((t) => {
          clearTimeout(timer);
          resolve(t);
        });
        waiters.set(sid, list);
      });
    },
    onClose(f) {
      close = f;
    },
    close: () => close(),
  };
}

/** Subscribes to `GET /v1/revocations/stream` of a node (from now on: `since` the node's current cursor). */
export async function subscribeSse(node: AuthServer): Promise<Arrivals> {
  const auth = `Basic ${Buffer.from(`${FEED_CLIENT.id}:${FEED_CLIENT.secret}`).toString('base64')}`;
  const headers = { authorization: auth };
  const head = (await (await fetch(`${node.base}/v1/revocations?limit=1000`, { headers })).json()) as { cursor: string };
  const a = arrivals(`SSE :${node.port}`);
  const abort = new AbortController();
  const res = await fetch(`${node.base}/v1/revocations/stream?since=${head.cursor}`, { headers, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`${a.name} answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((line) => line.startsWith('data: '));
        if (data) a.record(JSON.parse(data.slice(6)) as { cursor: string; sid: string | null });
      }
    }
  })();
  a.onClose(async () => {
    abort.abort();
    await pump;
  });
  return a;
}

/** Subscribes to the deployment's Redis channel, as a verifier would. */
export async function subscribeRedis(d: Deployment): Promise<Arrivals> {
  const a = arrivals('Redis');
  const client = new Redis(d.redisUrl, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  client.on('message', (_channel: string, message: string) => a.record(JSON.parse(message) as { cursor: string; sid: string | null }));
  await client.subscribe(d.redisChannel);
  a.onClose(async () => {
    await client.quit().catch(() => client.disconnect());
  });
  return a;
}

/** p50/p99/max of a sample, ms, one decimal. */
export function summary(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: values.length, p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), max: round(Math.max(...values)) };
}
