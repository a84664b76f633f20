// In-process cost per operation: a token verification (per algorithm, uncached; and a cache hit)
// against a cookie-session lookup in each store (what the auth server does per cookie request:
// session and user in one read, the secret's hash compared in constant time, expiry checked).
// Each operation runs in a loop for a slice of time, interleaved with the others, for several
// rounds; the figure is the median over the rounds. CPU time is this process's, plus that of
// the PostgreSQL and Redis processes for a lookup in them (the work a lookup really costs).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { openStores, type Stores } from '@tessera/stores';
import { sampleCpu } from './lib/cpu.js';
import { median } from './lib/stats.js';
import type { Backend, MicroRow } from './types.js';

/** One operation to time: sync (a verification) or async (a store round trip). */
export interface Operation {
  row: MicroRow;
  op: (() => unknown) | (() => Promise<unknown>);
  async: boolean;
}

interface Slice {
  ops: number;
  wallUs: number;
  cpuUs: number;
  storeCpuUs: number;
}

let sink: unknown;

/**
 * Runs `o` for about `ms` milliseconds; what it cost per operation. A store operation runs
 * `inFlight` at a time, as a server under load issues them (one at a time, every operation would
 * pay a whole event-loop turn and its system calls alone, and look dearer than it is); its wall
 * time is the mean latency of one operation.
 */
async function slice(o: Operation, ms: number, inFlight: number): Promise<Slice> {
  const before = sampleCpu(process.pid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + ms;
  let ops = 0;
  let latency = 0;
  if (o.async) {
    const f = o.op as () => Promise<unknown>;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < until) {
          const start = performance.now();
          sink = await f();
          latency += performance.now() - start;
          ops++;
        }
      }),
    );
  } else {
    const f = o.op as () => unknown;
    while (performance.now() < until) {
      for (let i = 0; i < 64; i++) sink = f();
      ops += 64;
    }
  }
  const wall = o.async ? latency * 1000 : (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = sampleCpu(process.pid);
  let store = 0;
  for (const [pid, t] of after.stores) {
    const was = before.stores.get(pid);
    if (was !== undefined) store += t - was;
  }
  return { ops, wallUs: wall / ops, cpuUs: (cpu.user + cpu.system) / ops, storeCpuUs: store / ops };
}

/**
 * Times every operation: one short warm-up slice each, then `rounds` rounds in which each gets a
 * slice of `sliceMs` (store operations `inFlight` at a time), in an order reversed every other
 * round. Returns the rows with their figures.
 */
export async function timeOperations(
  operations: readonly Operation[],
  plan: { sliceMs: number; rounds: number; inFlight: number },
  tick: () => void,
): Promise<MicroRow[]> {
  const { sliceMs, rounds, inFlight } = plan;
  for (const o of operations) await slice(o, Math.min(50, sliceMs), inFlight);
  const slices = new Map<Operation, Slice[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? operations : [...operations].reverse();
    for (const o of order) slices.set(o, [...(slices.get(o) ?? []), await slice(o, sliceMs, inFlight)]);
    tick();
  }
  if (sink === Symbol.for('never')) throw new Error('unreachable: keeps the timed results alive');
  return operations.map((o) => {
    const s = slices.get(o) ?? [];
    const remote = o.row.backend === 'redis' || o.row.backend === 'postgres';
    return {
      ...o.row,
      wallUs: median(s.map((x) => x.wallUs)),
      cpuUs: median(s.map((x) => x.cpuUs)),
      ...(remote ? { storeCpuUs: median(s.map((x) => x.storeCpuUs)) } : {}),
      roundsWallUs: s.map((x) => x.wallUs),
      roundsCpuUs: s.map((x) => x.cpuUs + (remote ? x.storeCpuUs : 0)),
    };
  });
}

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** A store with one user and one live cookie session, and the lookup the server does per request. */
export interface LookupStore {
  stores: Stores;
  lookup: () => Promise<boolean>;
}

/**
 * Opens the stores of `backend` at `url` (with Redis options for the Redis backend), creates a
 * user and a cookie session, and returns the per-request lookup: one read of session and user,
 * the secret's hash compared in constant time, liveness checked. Throws if the session is not found.
 */
export async function lookupStore(backend: Backend, url: string, redis?: { url: string; prefix: string }): Promise<LookupStore> {
  const stores = await openStores(url, redis ? { redisUrl: redis.url, sessionStore: 'redis', redisPrefix: redis.prefix } : {});
  const now = Date.now();
  const userId = `bench-${randomBytes(6).toString('hex')}`;
  await stores.users.create({
    id: userId,
    email: `${userId}@example.test`,
    name: null,
    passwordHash: 'not a hash: this user never logs in',
    roles: [],
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
  });
  const id = randomBytes(16).toString('base64url');
  const secret = randomBytes(24).toString('base64url');
  await stores.sessions.create({
    id,
    userId,
    kind: 'cookie',
    secretHash: sha256Hex(secret),
    csrfToken: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 86_400_000,
    absoluteExpiresAt: now + 86_400_000,
    userAgent: null,
    ip: null,
    revokedAt: null,
  });
  const lookup = async () => {
    const found = await stores.sessions.getWithUser(id);
    if (!found || found.session.secretHash === null) return false;
    const a = Buffer.from(sha256Hex(secret), 'hex');
    const b = Buffer.from(found.session.secretHash, 'hex');
    const t = Date.now();
    return a.length === b.length && timingSafeEqual(a, b) && found.session.revokedAt === null && t < found.session.idleExpiresAt;
  };
  if (!(await lookup())) throw new Error(`${backend}: the session just created was not found`);
  return { stores, lookup };
}
