// One bench run, start to end: PostgreSQL and Redis found, the auth server (one per session
// store) and the resource service started in processes of their own, every measurement taken,
// the auth server killed last, everything it created removed. Returns the figures.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type AccessTokenClaims,
  createIssuer,
  exportPrivateJwk,
  exportPublicJwk,
  generateSigningKey,
  type SigningKey,
} from '@tessera/core';
import type { AuthAppSpec, AuthReady } from './auth-process.js';
import { type Child, startChild } from './children.js';
import { inProcessRows, type LookupAt } from './in-process.js';
import type { Connection } from './lib/connection.js';
import { freePort } from './lib/scratch.js';
import { afterKill, distinctTokens, kill } from './outage.js';
import type { Progress } from './progress.js';
import type { ResourceReady, ResourceSpec } from './resource-process.js';
import { type Account, cookieLogin, cookieRevocation, tokenLogin, tokenRevocation } from './revocation.js';
import { closedLoop, expectStatus, getLoad, interleaved, type Runnable, ratioTo, type Sample, summarise } from './rounds.js';
import { openPostgres, openRedis } from './services.js';
import { measureSizes } from './sizes.js';
import {
  BACKEND_NAMES,
  type Backend,
  BENCH_ALGS,
  type BenchAlg,
  type HttpRow,
  type Measured,
  type RevocationRow,
  type Settings,
  type ThroughputRow,
} from './types.js';

/** The audience of every token in the run. */
const AUDIENCE = 'tessera-bench-api';
const PASSWORD = 'bench password that is long enough';
const EMAIL = 'bench@example.test';

/** The load shape of `--quick` (under a minute on two cores) and of a full run (a few minutes). */
export function settingsFor(quick: boolean): Settings {
  return quick
    ? {
        quick,
        connections: 10,
        warmupS: 0.2,
        durationS: 0.5,
        // Three short rounds rather than one long one: a single round has no spread, so no gap could be told from noise.
        rounds: 3,
        loginWorkers: 4,
        revocationSamples: 15,
        outageRequests: 200,
        microSliceMs: 50,
        microRounds: 3,
      }
    : {
        quick,
        connections: 10,
        warmupS: 1,
        durationS: 3,
        rounds: 3,
        loginWorkers: 4,
        revocationSamples: 100,
        outageRequests: 1000,
        microSliceMs: 150,
        microRounds: 7,
      };
}

const portOf = (base: string) => Number(new URL(base).port);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] as string;

async function signUp(base: string): Promise<void> {
  const res = await fetch(`${base}/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`sign-up at ${base} answered ${res.status}`);
}

/** Resolves once every revocation feed of the resource service is connected (10 s at most). */
async function feedsConnected(base: string): Promise<Record<string, boolean>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const state = (await (await fetch(`${base}/feeds`)).json()) as Record<string, boolean>;
    if (Object.values(state).every(Boolean) || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything a run sets up, so that `cleanUp` can take it down in any state. */
export interface RunContext {
  cleanups: (() => Promise<void>)[];
}

/** Measures everything; `ctx.cleanups` collects what must be undone (the caller runs them, also on failure). */
export async function measure(settings: Settings, command: string, progress: Progress, ctx: RunContext): Promise<Measured> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const loadBefore = loadavg()[0] as number;
  // Progress in tenths of a second of expected work, so the bar moves evenly: setup first, the rest once the stores are known.
  const SETUP = 20;
  const rowWeight = Math.round((settings.warmupS + settings.durationS) * 10);
  const microWeight = (stores: number) => Math.round(((BENCH_ALGS.length + 1 + stores) * settings.microSliceMs) / 100);
  /** The work after setup with `stores` session stores: load rows, in-process rounds, revocations, the outage. */
  const work = (stores: number) =>
    (2 + stores + 2 * BENCH_ALGS.length + 1 + stores) * settings.rounds * rowWeight +
    settings.microRounds * microWeight(stores) +
    settings.revocationSamples +
    20;
  progress.plan(3 * SETUP + work(4));
  progress.phase('finding PostgreSQL and Redis');
  const [postgres, redis] = await Promise.all([openPostgres(process.env), openRedis(process.env)]);
  ctx.cleanups.push(postgres.release, redis.release);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  ctx.cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  progress.tick(SETUP);

  // ---------------------------------------------------------------- the auth server, one per store
  progress.phase('starting the auth server');
  const feedClient = { id: 'tessera-bench', secret: randomBytes(18).toString('base64url') };
  const kek = randomBytes(32).toString('base64url');
  const channel = `${redis.prefix}revocations`;
  const unavailable = new Map<Backend, string>();
  if (redis.skipped) unavailable.set('redis', redis.skipped);
  if (postgres.skipped) unavailable.set('postgres', postgres.skipped);
  const wanted = (['memory', 'sqlite', 'redis', 'postgres'] as const).filter((b) => !unavailable.has(b));
  const specs: AuthAppSpec[] = [];
  for (const backend of wanted) {
    const port = await freePort();
    specs.push({
      backend,
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        TESSERA_ISSUER: `http://127.0.0.1:${port}`,
        TESSERA_AUDIENCE: AUDIENCE,
        TESSERA_KEK: kek,
        TESSERA_RESOURCE_SERVERS: `${feedClient.id}:${feedClient.secret}`,
        // One user, signed up from 127.0.0.1 and logged in thousands of times.
        TESSERA_SIGNUPS_PER_HOUR: '1000000',
        TESSERA_MAX_SESSIONS_PER_USER: '100000',
        TESSERA_LOG_LEVEL: 'warn',
        TESSERA_DATABASE_URL:
          backend === 'sqlite' ? `sqlite:${join(dir, 'auth.db')}` : backend === 'postgres' ? (postgres.url as string) : 'memory:',
        ...(backend === 'redis'
          ? {
              TESSERA_REDIS_URL: redis.url as string,
              TESSERA_SESSION_STORE: 'redis',
              TESSERA_REDIS_PREFIX: `${redis.prefix}auth:`,
              TESSERA_REDIS_CHANNEL: channel,
            }
          : {}),
      },
    });
  }
  const auth: Child<AuthReady> = await startChild<AuthReady>('auth-process', specs);
  ctx.cleanups.push(auth.stop);
  const bases = new Map<Backend, string>();
  for (const app of auth.ready.apps) {
    if (app.base) bases.set(app.backend, app.base);
    else unavailable.set(app.backend, `the auth server did not start on it (${app.error})`);
  }
  // The server the revocation, size and outage measures use: the one publishing to Redis when there is one.
  const hub = bases.get('redis') ?? bases.get('sqlite') ?? bases.get('memory');
  if (!hub) throw new Error(`no auth server started: ${[...unavailable.values()].join('; ')}`);
  const account = (base: string): Account => ({ base, email: EMAIL, password: PASSWORD });
  await Promise.all([...bases.values()].map(signUp));
  const cookies = new Map<Backend, string>();
  for (const [backend, base] of bases) cookies.set(backend, (await cookieLogin(account(base))).cookie);
  progress.tick(SETUP);
  progress.plan(work(bases.size) - work(4));
  const microRound = microWeight(bases.size);

  // ---------------------------------------------------------------- the resource service
  progress.phase('starting the resource service');
  const keys = new Map<BenchAlg, SigningKey>();
  const tokens = new Map<BenchAlg, string>();
  for (const alg of BENCH_ALGS) {
    const key = await generateSigningKey(alg);
    keys.set(alg, key);
    const issuer = createIssuer({ issuer: hub, audience: AUDIENCE, signingKey: key, ttl: 3_600 });
    tokens.set(alg, issuer.issue({ sub: 'bench-user', sid: 'bench-session', client_id: 'bench', scope: 'openid profile' }).token);
  }
  const spec: ResourceSpec = {
    audience: AUDIENCE,
    issuer: hub,
    credentials: feedClient,
    keys: await Promise.all(
      [...keys].map(async ([alg, key]) => ({
        alg,
        jwk: (alg === 'HS256' ? await exportPrivateJwk(key) : await exportPublicJwk(key)) as Record<string, unknown>,
      })),
    ),
    redis: redis.url && bases.has('redis') ? { url: redis.url, channel } : null,
  };
  const resource: Child<ResourceReady> = await startChild<ResourceReady>('resource-process', spec);
  ctx.cleanups.push(resource.stop);
  const resourceBase = resource.ready.base;
  const feeds = await feedsConnected(resourceBase);
  for (const [alg, token] of tokens) {
    const res = await fetch(`${resourceBase}/jwt/${alg}/cached`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`the resource service refused a fresh ${alg} token (${res.status})`);
  }
  progress.tick(SETUP);

  // ---------------------------------------------------------------- HTTP rows, interleaved
  const authPid = auth.process.pid as number;
  const resourcePid = resource.process.pid as number;
  const baselineBase = bases.get('memory') ?? hub;
  const httpMeta: HttpRow[] = [
    { id: 'auth-baseline', label: 'auth server, no auth (GET /healthz)', kind: 'baseline', server: 'auth', baseline: 'auth-baseline' },
    ...(['memory', 'sqlite', 'redis', 'postgres'] as const).map(
      (backend): HttpRow => ({
        id: `cookie-${backend}`,
        label: `cookie session, ${BACKEND_NAMES[backend]}`,
        kind: 'cookie',
        server: 'auth',
        backend,
        baseline: 'auth-baseline',
        ...(unavailable.has(backend) ? { skipped: unavailable.get(backend) as string } : {}),
      }),
    ),
    { id: 'resource-baseline', label: 'resource service, no auth', kind: 'baseline', server: 'resource', baseline: 'resource-baseline' },
    ...BENCH_ALGS.flatMap((alg) =>
      [true, false].map(
        (cached): HttpRow => ({
          id: `jwt-${alg}-${cached ? 'cached' : 'uncached'}`,
          label: `JWT ${alg}, ${cached ? 'cached' : 'uncached'}`,
          kind: 'jwt',
          server: 'resource',
          alg,
          cached,
          baseline: 'resource-baseline',
        }),
      ),
    ),
  ];
  const httpRun = (row: HttpRow): Runnable | null => {
    if (row.skipped) return null;
    const c = settings.connections;
    if (row.id === 'auth-baseline') return { id: row.id, pid: authPid, run: getLoad(`${baselineBase}/healthz`, {}, c) };
    if (row.id === 'resource-baseline') return { id: row.id, pid: resourcePid, run: getLoad(`${resourceBase}/healthz`, {}, c) };
    if (row.kind === 'cookie') {
      const backend = row.backend as Backend;
      return { id: row.id, pid: authPid, run: getLoad(`${bases.get(backend)}/v1/me`, { cookie: cookies.get(backend) as string }, c) };
    }
    const path = `/jwt/${row.alg}/${row.cached ? 'cached' : 'uncached'}`;
    return {
      id: row.id,
      pid: resourcePid,
      run: getLoad(`${resourceBase}${path}`, { authorization: `Bearer ${tokens.get(row.alg as BenchAlg)}` }, c),
    };
  };

  const grant = { grant_type: 'password', username: EMAIL, password: PASSWORD };
  const login = async (c: Connection) => (await expectStatus(c.post('/v1/token', grant), 200, 'login')).body.refresh_token as string;
  const loginBackend: Backend = bases.has('sqlite') ? 'sqlite' : (bases.keys().next().value as Backend);
  const throughputMeta: ThroughputRow[] = [
    { id: `login-${loginBackend}`, label: `password logins (${BACKEND_NAMES[loginBackend]})`, op: 'login', backend: loginBackend },
    ...(['memory', 'sqlite', 'redis', 'postgres'] as const).map(
      (backend): ThroughputRow => ({
        id: `refresh-${backend}`,
        label: `refresh rotations (${BACKEND_NAMES[backend]})`,
        op: 'refresh',
        backend,
        ...(unavailable.has(backend) ? { skipped: unavailable.get(backend) as string } : {}),
      }),
    ),
  ];
  const throughputRun = (row: ThroughputRow): Runnable | null => {
    if (row.skipped) return null;
    const port = portOf(bases.get(row.backend) as string);
    if (row.op === 'login') {
      return {
        id: row.id,
        pid: authPid,
        run: closedLoop(
          port,
          settings.loginWorkers,
          async () => null,
          async (c) => {
            await login(c);
            return null;
          },
        ),
      };
    }
    return {
      id: row.id,
      pid: authPid,
      run: closedLoop(port, settings.connections, login, async (c, refreshToken) => {
        const a = await expectStatus(c.post('/v1/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), 200, 'refresh');
        return a.body.refresh_token as string;
      }),
    };
  };
  const runnables = [...httpMeta.map(httpRun), ...throughputMeta.map(throughputRun)].filter((r): r is Runnable => r !== null);
  progress.phase('loading routes, logins and refreshes');
  const samples = await interleaved(runnables, settings, () => progress.tick(rowWeight));

  const figuresOf = (id: string): { samples: Sample[] } | { error: string } | null => {
    const s = samples.get(id);
    if (s === undefined) return null;
    return s instanceof Error ? { error: message(s) } : { samples: s };
  };
  const http: HttpRow[] = httpMeta.map((row) => {
    const f = figuresOf(row.id);
    if (f === null) return row;
    if ('error' in f) return { ...row, skipped: f.error };
    const base = figuresOf(row.baseline);
    const s = summarise(f.samples);
    return {
      ...row,
      roundsRps: f.samples.map((x) => x.rps),
      rps: s.rps,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      serverCpuUs: s.serverCpuUs,
      storeCpuUs: s.storeCpuUs,
      roundsCpuUs: f.samples.map((x) => x.serverCpuUs + x.storeCpuUs),
      ...(base && 'samples' in base ? { ratio: ratioTo(f.samples, base.samples) } : {}),
    };
  });
  const throughput: ThroughputRow[] = throughputMeta.map((row) => {
    const f = figuresOf(row.id);
    if (f === null) return row;
    if ('error' in f) return { ...row, skipped: f.error };
    const s = summarise(f.samples);
    return { ...row, rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
  });

  // ---------------------------------------------------------------- in-process cost per operation
  progress.phase('timing verifications and session lookups');
  const lookupAt = (backend: Backend): LookupAt => {
    const why = unavailable.get(backend);
    if (why !== undefined) return { skipped: why };
    if (backend === 'memory') return { url: 'memory:' };
    if (backend === 'sqlite') return { url: `sqlite:${join(dir, 'lookup.db')}` };
    if (backend === 'redis') return { url: 'memory:', redis: { url: redis.url as string, prefix: `${redis.prefix}lookup:` } };
    return { url: postgres.url as string };
  };
  const microRows = await inProcessRows(
    {
      issuer: hub,
      audience: AUDIENCE,
      keys,
      tokens,
      feedCredentials: feedClient,
      stores: { memory: lookupAt('memory'), sqlite: lookupAt('sqlite'), redis: lookupAt('redis'), postgres: lookupAt('postgres') },
      plan: { sliceMs: settings.microSliceMs, rounds: settings.microRounds, inFlight: settings.connections },
    },
    ctx.cleanups,
    () => progress.tick(microRound),
  );

  // ---------------------------------------------------------------- revocation
  progress.phase('revoking: logout → refused');
  const routes: { row: RevocationRow; path: string }[] = [
    { row: { id: 'revocation-sse', label: 'JWT verifier on the SSE feed', feed: 'sse' }, path: '/rev/sse' },
  ];
  const redisRow: RevocationRow = { id: 'revocation-redis', label: 'JWT verifier on the Redis feed', feed: 'redis' };
  if (spec.redis) routes.push({ row: redisRow, path: '/rev/redis' });
  const notConnected = routes.filter((r) => feeds[r.path] === false);
  const measurable = routes.filter((r) => feeds[r.path] !== false);
  let revocation: RevocationRow[];
  try {
    revocation = await tokenRevocation(account(hub), resourceBase, measurable, settings.revocationSamples, () => progress.tick());
  } catch (err) {
    revocation = measurable.map((r) => ({ ...r.row, skipped: message(err) }));
  }
  revocation.push(...notConnected.map((r) => ({ ...r.row, skipped: 'its revocation feed did not connect within 10 s' })));
  if (!spec.redis) revocation.push({ ...redisRow, skipped: unavailable.get('redis') ?? 'no auth server publishes to Redis' });
  revocation.sort((a, b) => (a.feed === b.feed ? 0 : a.feed === 'sse' ? -1 : 1));
  const cookieRev = await cookieRevocation(account(hub), settings.quick ? 5 : 20).catch(() => null);
  progress.tick(10);

  // ---------------------------------------------------------------- sizes
  progress.phase('weighing tokens and cookies');
  const real = await tokenLogin(account(hub));
  const claims = JSON.parse(Buffer.from(real.access.split('.')[1] ?? '', 'base64url').toString('utf8')) as AccessTokenClaims;
  const hubBackend = [...bases].find(([, base]) => base === hub)?.[0] as Backend;
  const sizes = await measureSizes(claims, cookies.get(hubBackend) as string, keys);

  // ---------------------------------------------------------------- the auth server killed
  progress.phase('killing the auth server');
  const outageTokens = await distinctTokens(hub, real, 20);
  const hubCookie = (await cookieLogin(account(hub))).cookie;
  await kill(auth.process);
  const outage = await afterKill(
    { port: portOf(resourceBase), path: '/rev/sse', tokens: outageTokens },
    { port: portOf(hub), cookie: hubCookie },
    settings.outageRequests,
  );
  progress.tick(10);

  return {
    schema: 1,
    startedAt,
    elapsedS: (performance.now() - t0) / 1000,
    command,
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: availableParallelism(),
      node: process.version,
      platform: `${platform()} ${arch()}`,
      loadBefore,
      loadAfter: loadavg()[0] as number,
    },
    settings,
    services: {
      postgres: { where: postgres.where, skipped: postgres.skipped },
      redis: { where: redis.where, skipped: redis.skipped },
    },
    budgets: { headerBytes: 8192, cookieBytes: 4096, revocationP99Ms: 100 },
    http,
    micro: microRows,
    revocation,
    cookieRevocation: cookieRev,
    sizes,
    throughput,
    outage,
  };
}
