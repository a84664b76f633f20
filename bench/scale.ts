// Scale benchmark: the auth server as real processes (packages/server/dist/bin.js) on each
// backend, side by side in one run on this machine.
//
// Rows, per backend — SQLite; PostgreSQL (sessions in the database, login counters in Redis);
// Redis sessions (TESSERA_SESSION_STORE=redis over PostgreSQL):
//   - GET /healthz of that server: the baseline;
//   - GET /v1/me with a cookie session, as a ratio to that baseline (paired per round);
//   - refresh rotations/s: CONNECTIONS closed loops, each rotating a family of its own;
//   - logins/s: LOGIN_WORKERS closed loops on the password grant (argon2id-bound), each login by
//     the next of LOGIN_USERS users in turn, so that no user's session list grows past a few dozen
//     (every login lists the user's live sessions to apply the per-user cap).
// Then, on PostgreSQL + Redis: logins with TESSERA_WORKERS=1 vs 2 (same load, WORKER_LOGINS
// connections), unconfined, and again with each worker confined to a CPU of its own (taskset);
// and cross-node revocation: a logout answered by node A until node B's SSE
// subscriber has the event (two nodes sharing the database and Redis), p50/p99 over REVOCATIONS.
//
// Method as in bench/server.ts: every row gets WARMUP_S then DURATION_S; rows run interleaved,
// ROUNDS times, order reversed every other round; figures are medians over the rounds and each
// ratio is paired round by round. The load generator is this process; the servers, PostgreSQL
// and Redis share the same cores with it (only the "one CPU each" worker rows are pinned), so
// every row also reports CPU time per request: the server's processes, PostgreSQL + Redis, and
// the load generator (packages/cli/src/bench/lib/cpu.ts), which says what a row is waiting for.
//
// Run: npm run bench:scale  (needs the build, PostgreSQL and Redis; writes bench/results/scale.json)
// Knobs: BENCH_CONNECTIONS (10), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_ROUNDS (3),
// BENCH_LOGIN_WORKERS (4), BENCH_WORKER_LOGINS (8), BENCH_LOGIN_USERS (256), BENCH_REVOCATIONS (200),
// BENCH_ROWS (words picking rows, e.g. `PostgreSQL,workers`; baselines of picked backends always run),
// BENCH_RESULTS_DIR (bench/results), TESSERA_TEST_POSTGRES_URL, TESSERA_TEST_REDIS_URL.
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { Connection } from '../packages/cli/src/bench/lib/connection.js';
import { cpuPerRequest, sampleCpu } from '../packages/cli/src/bench/lib/cpu.js';
import { cpuSummary } from '../packages/cli/src/bench/lib/machine.js';
import { writeResults } from '../packages/cli/src/bench/lib/results.js';
import { median, pairedRatio } from '../packages/cli/src/bench/lib/stats.js';
import { markdownTable } from '../packages/cli/src/bench/lib/table.js';
import { RESULTS_DIR } from './results-dir.js';
import { closedLoop, expectStatus, getLoad, type Measure } from './scale/load.js';
import { revocationLatencies } from './scale/revocation.js';
import { cleanUp, createDatabase, REDIS_URL, redisPrefix, type Server, sqliteUrl, startServer } from './scale/servers.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOGIN_WORKERS = Number(process.env.BENCH_LOGIN_WORKERS ?? 4);
/** Enough concurrent logins to keep two processes' argon2 thread pools busy, for both worker rows. */
const WORKER_LOGINS = Number(process.env.BENCH_WORKER_LOGINS ?? 8);
/** Users the login rows take turns with (one sign-up, one argon2id hash, each per deployment). */
const LOGIN_USERS = Number(process.env.BENCH_LOGIN_USERS ?? 256);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const PASSWORD = 'bench password that is long enough';
const only = (process.env.BENCH_ROWS ?? '').split(',').filter(Boolean);
const picked = (name: string) => only.length === 0 || only.some((w) => name.includes(w));

// ---------------------------------------------------------------- servers

/** Settings every PostgreSQL + Redis node of one deployment shares. */
async function deployment(): Promise<Record<string, string>> {
  const prefix = redisPrefix();
  return {
    TESSERA_DATABASE_URL: await createDatabase(),
    TESSERA_REDIS_URL: REDIS_URL,
    TESSERA_REDIS_PREFIX: prefix,
    TESSERA_REDIS_CHANNEL: `${prefix}revocations`,
    TESSERA_KEK: randomBytes(32).toString('base64url'),
  };
}

const postgresEnv = await deployment();
const redisSessionsEnv = { ...(await deployment()), TESSERA_SESSION_STORE: 'redis' };

let servers: {
  sqlite: Server;
  postgres: Server;
  redis: Server;
  twoWorkers: Server;
  nodeB: Server;
  /** One worker on CPU 0 only; two workers on CPUs 0 and 1, one each. */
  pinnedOne: Server;
  pinnedTwo: Server;
};
try {
  const [sqlite, postgres, redis] = await Promise.all([
    startServer('SQLite', { TESSERA_DATABASE_URL: sqliteUrl() }),
    startServer('PostgreSQL', postgresEnv),
    startServer('Redis sessions', redisSessionsEnv),
  ]);
  // After the first node of the deployment migrated and created the keys.
  const [twoWorkers, nodeB, pinnedOne, pinnedTwo] = await Promise.all([
    startServer('PostgreSQL, 2 workers', { ...postgresEnv, TESSERA_WORKERS: '2' }),
    startServer('PostgreSQL node B', postgresEnv),
    startServer('PostgreSQL, 1 worker on CPU 0', postgresEnv, { cpus: [0] }),
    startServer('PostgreSQL, 2 workers on CPUs 0 and 1', { ...postgresEnv, TESSERA_WORKERS: '2' }, { cpus: [0, 1] }),
  ]);
  servers = { sqlite, postgres, redis, twoWorkers, nodeB, pinnedOne, pinnedTwo };
} catch (err) {
  await cleanUp();
  throw err;
}

// ---------------------------------------------------------------- users and sessions

const emails = Array.from({ length: Math.max(CONNECTIONS, LOGIN_USERS) + 1 }, (_, i) => `bench-${i}@example.test`);
const grant = (email: string) => ({ grant_type: 'password', username: email, password: PASSWORD });

async function setup(server: Server): Promise<string> {
  // Four sign-ups in flight keep the server hashing (one argon2id per core) without queueing many.
  const queue = [...emails];
  const signUp = async () => {
    for (let email = queue.shift(); email !== undefined; email = queue.shift()) {
      const res = await fetch(`${server.base}/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`sign-up on ${server.name} answered ${res.status}`);
    }
  };
  await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  const res = await fetch(`${server.base}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: emails[0], password: PASSWORD }),
  });
  await res.arrayBuffer();
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] as string)
    .find((c) => c.startsWith('tessera_session='));
  if (!cookie) throw new Error(`cookie login on ${server.name} answered ${res.status} without a session cookie`);
  return cookie;
}

// The 2-worker server and node B share the PostgreSQL deployment's users.
const cookies = {
  sqlite: await setup(servers.sqlite),
  postgres: await setup(servers.postgres),
  redis: await setup(servers.redis),
};

// ---------------------------------------------------------------- rows

const rotate = async (c: Connection, refreshToken: string) =>
  (await expectStatus(c.post('/v1/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), 200, 'rotation')).body
    .refresh_token as string;
/** The login rows' users, in turn (emails[0] holds the cookie session of the /v1/me rows). */
let nextLogin = 0;
const loginUser = () => emails[1 + (nextLogin++ % LOGIN_USERS)] as string;
const logins = (server: Server, workers: number) =>
  closedLoop(
    server.port,
    workers,
    async () => undefined,
    async (c) => {
      await expectStatus(c.post('/v1/token', grant(loginUser())), 200, 'login');
    },
  );

interface Row {
  name: string;
  /** The server under load, whose processes' CPU time is counted. */
  server: Server;
  /** The row this one's req/s is a ratio to (paired per round). */
  baseline?: string;
  run: (seconds: number) => Promise<Measure>;
}

const backends = [
  ['SQLite', servers.sqlite, cookies.sqlite],
  ['PostgreSQL', servers.postgres, cookies.postgres],
  ['Redis sessions', servers.redis, cookies.redis],
] as const;
const rows: Row[] = backends.flatMap(([label, server, cookie]): Row[] => [
  { name: `${label}: GET /healthz (baseline)`, server, run: getLoad(server.base, '/healthz', {}, CONNECTIONS) },
  {
    name: `${label}: GET /v1/me cookie`,
    server,
    baseline: `${label}: GET /healthz (baseline)`,
    run: getLoad(server.base, '/v1/me', { cookie }, CONNECTIONS),
  },
  {
    name: `${label}: refresh rotations`,
    server,
    run: closedLoop(
      server.port,
      CONNECTIONS,
      async (c, i) => (await expectStatus(c.post('/v1/token', grant(emails[i + 1] as string)), 200, 'login')).body.refresh_token as string,
      rotate,
    ),
  },
  { name: `${label}: logins`, server, run: logins(server, LOGIN_WORKERS) },
]);
rows.push(
  { name: 'workers: logins, TESSERA_WORKERS=1', server: servers.postgres, run: logins(servers.postgres, WORKER_LOGINS) },
  {
    name: 'workers: logins, TESSERA_WORKERS=2',
    server: servers.twoWorkers,
    baseline: 'workers: logins, TESSERA_WORKERS=1',
    run: logins(servers.twoWorkers, WORKER_LOGINS),
  },
  // One process already hashes on every core (one argon2id per core, on libuv's pool): on 2 cores,
  // one worker alone uses most of both, and a second can add little. Each worker confined to one CPU shows what
  // a worker adds where it has a core to itself, as on a machine with more cores than one worker fills.
  { name: 'workers, one CPU each: logins, TESSERA_WORKERS=1', server: servers.pinnedOne, run: logins(servers.pinnedOne, WORKER_LOGINS) },
  {
    name: 'workers, one CPU each: logins, TESSERA_WORKERS=2',
    server: servers.pinnedTwo,
    baseline: 'workers, one CPU each: logins, TESSERA_WORKERS=1',
    run: logins(servers.pinnedTwo, WORKER_LOGINS),
  },
);

/** Targets of the issue, by row: `ratio` is the paired ratio to the row's baseline. */
const TARGETS: Record<string, { describe: string; pass: (m: Measure, ratio: number) => boolean }> = {
  'Redis sessions: GET /v1/me cookie': { describe: '≥ 0.65 of /healthz', pass: (_m, r) => r >= 0.65 },
  'PostgreSQL: GET /v1/me cookie': { describe: '≥ 0.5 of /healthz', pass: (_m, r) => r >= 0.5 },
  'PostgreSQL: refresh rotations': { describe: '≥ 1500/s', pass: (m) => m.rps >= 1500 },
  'workers: logins, TESSERA_WORKERS=2': { describe: '≥ 1.7× one worker', pass: (_m, r) => r >= 1.7 },
  'workers, one CPU each: logins, TESSERA_WORKERS=2': { describe: '≥ 1.7× one worker', pass: (_m, r) => r >= 1.7 },
};

const selected = rows.filter((r) => picked(r.name) || rows.some((o) => o.baseline === r.name && picked(o.name)));
const loadBefore = loadavg();
const runs = new Map<string, Measure[]>();
/** CPU µs per request of each measured run, by row: server processes, PostgreSQL + Redis, load generator. */
const cpu = new Map<string, { server: number; stores: number; client: number }[]>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? selected : [...selected].reverse();
    for (const row of order) {
      if (WARMUP_S > 0) await row.run(WARMUP_S);
      const before = sampleCpu(row.server.child.pid as number);
      const m = await row.run(DURATION_S);
      const used = cpuPerRequest(before, sampleCpu(row.server.child.pid as number), m.ok);
      process.stderr.write(
        `round ${round + 1}/${ROUNDS} ${row.name}: ${m.rps.toFixed(0)} req/s, CPU µs/req server ${used.server.toFixed(0)}, stores ${used.stores.toFixed(0)}, client ${used.client.toFixed(0)}\n`,
      );
      runs.set(row.name, [...(runs.get(row.name) ?? []), m]);
      cpu.set(row.name, [...(cpu.get(row.name) ?? []), used]);
    }
  }
} catch (err) {
  await cleanUp();
  throw err;
}

let revocation: number[] = [];
if (picked('revocation')) {
  try {
    revocation = await revocationLatencies(servers.postgres, servers.nodeB, emails.slice(1), PASSWORD, REVOCATIONS);
  } finally {
    await cleanUp();
  }
} else {
  await cleanUp();
}
const loadAfter = loadavg();

// ---------------------------------------------------------------- report

const round1 = (x: number) => Math.round(x * 1000) / 1000;
const report = selected.map((row) => {
  const ms = runs.get(row.name) as Measure[];
  const field = (f: keyof Measure) => median(ms.map((x) => x[f]));
  const m: Measure = { ok: field('ok'), rps: field('rps'), p50: field('p50'), p99: field('p99') };
  const used = cpu.get(row.name) ?? [];
  const cpuOf = (g: 'server' | 'stores' | 'client') => Math.round(median(used.map((u) => u[g])));
  const base = row.baseline ? (runs.get(row.baseline) as Measure[]) : undefined;
  const ratio = base
    ? pairedRatio(
        ms.map((x) => x.rps),
        base.map((x) => x.rps),
      )
    : null;
  const target = TARGETS[row.name];
  return {
    row: row.name,
    rps: Math.round(m.rps),
    p50_ms: round1(m.p50),
    p99_ms: round1(m.p99),
    ratio: ratio === null ? null : round1(ratio),
    cpu_us_per_req: { server: cpuOf('server'), stores: cpuOf('stores'), client: cpuOf('client') },
    target: target?.describe ?? null,
    pass: target ? target.pass(m, ratio ?? Number.NaN) : null,
  };
});
const sorted = [...revocation].sort((a, b) => a - b);
const nearestRank = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
const revocationReport =
  revocation.length > 0
    ? {
        row: 'cross-node revocation (logout on A → SSE on B)',
        samples: revocation.length,
        p50_ms: round1(nearestRank(50)),
        p99_ms: round1(nearestRank(99)),
        max_ms: round1(sorted[sorted.length - 1] as number),
        target: 'p99 ≤ 100 ms',
        pass: nearestRank(99) <= 100,
      }
    : null;

const verdict = (pass: boolean | null) => (pass === null ? '' : pass ? 'PASS' : 'FAIL');
const cells = [
  ['row', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'CPU µs/req server', 'stores', 'client', 'target', ''],
  ...report.map((r) => [
    r.row,
    String(r.rps),
    r.p50_ms.toFixed(2),
    r.p99_ms.toFixed(2),
    r.ratio === null ? '—' : r.row.startsWith('workers') ? `${r.ratio.toFixed(2)}×` : `${(r.ratio * 100).toFixed(1)}%`,
    String(r.cpu_us_per_req.server),
    String(r.cpu_us_per_req.stores),
    String(r.cpu_us_per_req.client),
    r.target ?? '—',
    verdict(r.pass),
  ]),
  ...(revocationReport
    ? [
        [
          `${revocationReport.row}, ${revocationReport.samples} logouts`,
          '—',
          revocationReport.p50_ms.toFixed(2),
          revocationReport.p99_ms.toFixed(2),
          '—',
          '',
          '',
          '',
          revocationReport.target,
          verdict(revocationReport.pass),
        ],
      ]
    : []),
];
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
console.log(
  `\nTessera auth server at scale, Node ${process.version}, ${cpuSummary()}; load average (1/5/15 min) ${load(loadBefore)} before, ${load(loadAfter)} after (other processes share these cores)`,
);
console.log(
  `servers are separate processes (packages/server/dist/bin.js); ${CONNECTIONS} connections (logins: ${LOGIN_WORKERS}, worker rows: ${WORKER_LOGINS}), ` +
    `${WARMUP_S} s warm-up + ${DURATION_S} s per row, median of ${ROUNDS} interleaved rounds (ratio: paired per round)\n`,
);
for (const line of markdownTable(cells, { left: [0, 8] })) console.log(line);
console.log(
  '\nThe load generator (this process), the servers, PostgreSQL and Redis share the machine’s cores; only the "one CPU each" worker servers are pinned (taskset).' +
    "\nCPU µs/req: the server processes; every postgres and redis-server process on the machine (other users' work included); this load generator." +
    '\nPostgreSQL rows: sessions and refresh families in PostgreSQL, login counters in Redis. Redis sessions: TESSERA_SESSION_STORE=redis over PostgreSQL.' +
    `\nWorker rows: one worker already runs one argon2id hash per core (${availableParallelism()} here), so unconfined a second worker adds only the CPU one leaves idle; the "one CPU each" rows compare one worker on one core with two workers on a core each.`,
);

const run = {
  node: process.version,
  cpu: cpuSummary(),
  loadavg_before: loadBefore,
  loadavg_after: loadAfter,
  settings: { CONNECTIONS, DURATION_S, WARMUP_S, ROUNDS, LOGIN_WORKERS, WORKER_LOGINS, REVOCATIONS },
};
const out = writeResults(
  'scale',
  { run, rows: report, revocation: revocationReport },
  { defaultDir: RESULTS_DIR, partial: only.length > 0 },
);
console.log(`\nwrote ${out}`);
