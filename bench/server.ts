// HTTP benchmark of the auth server: the real app (buildApp + loadConfig, SQLite stores, no
// logger, no background jobs) listening on 127.0.0.1, driven from this same process.
//
// Rows, each against the GET /healthz baseline measured in the same run:
//   - GET /v1/me with a Bearer access token (the same token repeated: the verified-token cache path);
//   - GET /v1/me with a cookie session (a SQLite read per request, plus the user row);
//   - refresh rotations: autocannon cannot chain a response into the next request, so N workers
//     each own a refresh family and rotate it in a closed loop (one keep-alive connection each);
//   - password logins: N workers in a closed loop on POST /v1/token, while the event-loop delay
//     is sampled (perf_hooks.monitorEventLoopDelay, 1 ms resolution);
//   - argon2id verify alone, same concurrency, no HTTP: the ceiling the login row can reach here.
//
// Method: every row gets the same load shape (CONNECTIONS connections or workers, WARMUP_S of
// warm-up, then DURATION_S measured); rows run interleaved, ROUNDS times, in an order reversed
// every other round so drift spreads over all of them; each figure is the median over the rounds,
// and a ratio is taken round by round against the baseline's run of that round, then the median.
// Latencies are recorded per response in µs (autocannon's own histogram rounds to whole ms).
// The client runs on the server's event loop, so its cost is in every row (which flatters
// ratios a little) and in the loop-delay figure: the output says so.
//
// Run: npm run bench:server  (writes bench/results/server.json)
// Knobs: BENCH_CONNECTIONS (10), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_ROUNDS (3), BENCH_LOGIN_WORKERS (4),
// BENCH_ROWS (words picking rows, e.g. `cookie,refresh`; the baseline always runs), BENCH_RESULTS_DIR (bench/results).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { openStores } from '@tessera/stores';
import { type Answer, Connection, stepUntil } from '../packages/cli/src/bench/lib/connection.js';
import { runLoad } from '../packages/cli/src/bench/lib/load.js';
import { cpuSummary } from '../packages/cli/src/bench/lib/machine.js';
import { writeResults } from '../packages/cli/src/bench/lib/results.js';
import { median, pairedRatio } from '../packages/cli/src/bench/lib/stats.js';
import { markdownTable } from '../packages/cli/src/bench/lib/table.js';
import { buildApp } from '../packages/server/src/app.js';
import { loadConfig } from '../packages/server/src/config.js';
import { hashPassword, verifyPassword } from '../packages/server/src/lib/passwords.js';
import { RESULTS_DIR } from './results-dir.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * Logins are bound by argon2 on the libuv pool (4 threads by default): one worker per pool thread.
 * More workers only queue behind the pool (same throughput, longer latency).
 */
const LOGIN_WORKERS = Number(process.env.BENCH_LOGIN_WORKERS ?? 4);
const PASSWORD = 'bench password that is long enough';

type RowName =
  | 'GET /healthz (baseline)'
  | 'GET /v1/me Bearer'
  | 'GET /v1/me cookie (SQLite)'
  | 'refresh rotations'
  | 'logins (password grant)'
  | 'argon2id verify alone';

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  /** Event-loop delay p99 over the measured window, ms. */
  loopP99: number;
  /** Process CPU time (user + system, all threads) per successful request, µs: steadier than req/s on a busy machine. */
  cpuUs: number;
}

interface Target {
  describe: string;
  /** `ratio`: the row's req/s over the baseline's, paired by round (see `summary`). */
  pass: (m: Measure, ratio: number) => boolean;
}

const TARGETS: Partial<Record<RowName, Target>> = {
  'GET /v1/me Bearer': { describe: '≥ 80% of baseline', pass: (_m, ratio) => ratio >= 0.8 },
  'GET /v1/me cookie (SQLite)': { describe: '≥ 65% of baseline', pass: (_m, ratio) => ratio >= 0.65 },
  'refresh rotations': { describe: '≥ 2000/s', pass: (m) => m.rps >= 2000 },
  'logins (password grant)': { describe: '≥ 60/s, loop p99 < 10 ms', pass: (m) => m.rps >= 60 && m.loopP99 < 10 },
};

// ---------------------------------------------------------------- the server

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const databaseUrl = `sqlite:${join(dir, 'bench.db')}`;
// The bench signs its users up from one address: the per-address sign-up limit would stop a large BENCH_CONNECTIONS.
const config = loadConfig({ TESSERA_ISSUER: 'http://127.0.0.1', TESSERA_DATABASE_URL: databaseUrl, TESSERA_SIGNUPS_PER_HOUR: '1000000' });
const stores = await openStores(databaseUrl);
const app = await buildApp({ config, stores, kek: randomBytes(32), logger: false, background: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
const base = `http://127.0.0.1:${port}`;

// ---------------------------------------------------------------- clients

/** Setup requests (not measured): plain fetch. */
async function setupPost(path: string, body: unknown): Promise<Answer & { headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  if (answer.status >= 300) throw new Error(`setup ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}

async function expectStatus(answer: Promise<Answer>, status: number): Promise<Answer> {
  const a = await answer;
  if (a.status !== status) throw new Error(`expected ${status}, got ${a.status}: ${JSON.stringify(a.body)}`);
  return a;
}

const passwordHash = await hashPassword(PASSWORD);
const emails = Array.from({ length: Math.max(CONNECTIONS, LOGIN_WORKERS) }, (_, i) => `bench-${i}@example.test`);
// The login row signs its own users in, hundreds of times: past the per-user session cap each
// login ends the least recently used session, which must not be the one the /v1/me rows use.
const loginEmails = Array.from({ length: LOGIN_WORKERS }, (_, i) => `bench-login-${i}@example.test`);
for (const email of [...emails, ...loginEmails]) await setupPost('/v1/users', { email, password: PASSWORD });
const passwordGrant = (email: string) => ({ grant_type: 'password', username: email, password: PASSWORD });

const bearer = (await setupPost('/v1/token', passwordGrant(emails[0] as string))).body.access_token as string;
const cookie = (await setupPost('/v1/sessions', { email: emails[0], password: PASSWORD })).headers
  .getSetCookie()
  .map((c) => c.split(';')[0] as string)
  .find((c) => c.startsWith('tessera_session='));
if (!cookie) throw new Error('cookie login set no session cookie');

// ---------------------------------------------------------------- measuring

const toMs = (h: RecordableHistogram, p: number) => h.percentile(p) / 1000;

/** Runs `body` for `seconds`, recording latencies (µs) and loop delay; returns the measure. */
async function measured(seconds: number, body: (latency: RecordableHistogram, until: number) => Promise<number>): Promise<Measure> {
  const latency = createHistogram();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = await body(latency, t0 + seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  return {
    rps: ok / elapsed,
    p50: toMs(latency, 50),
    p99: toMs(latency, 99),
    loopP99: loop.percentile(99) / 1e6,
    cpuUs: (cpu.user + cpu.system) / Math.max(1, ok),
  };
}

/** autocannon against a GET with fixed headers; every answer must be a 2xx, or the row is void. */
function cannon(path: string, headers: Record<string, string>) {
  return (seconds: number) =>
    measured(
      seconds,
      async (latency) => (await runLoad({ url: `${base}${path}`, connections: CONNECTIONS, duration: seconds, headers }, path, latency)).ok,
    );
}

/**
 * `workers` closed loops, each on a connection of its own, running `step` back to back until the
 * deadline; counts successes (a failed step throws and voids the run).
 */
function closedLoop<S>(workers: number, init: (c: Connection, i: number) => Promise<S>, step: (c: Connection, state: S) => Promise<S>) {
  return async (seconds: number) => {
    const connections = await Promise.all(Array.from({ length: workers }, () => Connection.open(port)));
    const states = await Promise.all(connections.map((c, i) => init(c, i)));
    try {
      return await measured(seconds, (latency, until) => stepUntil(connections, states, step, until, latency));
    } finally {
      for (const c of connections) c.close();
    }
  };
}

/** One rotation: the worker's family moves on to the successor; anything but 200 voids the run. */
async function rotate(c: Connection, refreshToken: string): Promise<string> {
  const a = await expectStatus(c.post('/v1/token', { grant_type: 'refresh_token', refresh_token: refreshToken }), 200);
  return a.body.refresh_token as string;
}

const rows: [RowName, (seconds: number) => Promise<Measure>][] = [
  ['GET /healthz (baseline)', cannon('/healthz', {})],
  ['GET /v1/me Bearer', cannon('/v1/me', { authorization: `Bearer ${bearer}` })],
  ['GET /v1/me cookie (SQLite)', cannon('/v1/me', { cookie })],
  [
    'refresh rotations',
    // Each worker logs in for a family of its own, every run (a fresh family per run).
    closedLoop(
      CONNECTIONS,
      async (c, i) => (await expectStatus(c.post('/v1/token', passwordGrant(emails[i] as string)), 200)).body.refresh_token as string,
      rotate,
    ),
  ],
  [
    'logins (password grant)',
    closedLoop(
      LOGIN_WORKERS,
      async (_c, i) => passwordGrant(loginEmails[i] as string),
      async (c, grant) => {
        await expectStatus(c.post('/v1/token', grant), 200);
        return grant;
      },
    ),
  ],
  [
    // The ceiling for the row above: the same argon2id verifications, same concurrency, no HTTP or store.
    'argon2id verify alone',
    closedLoop(
      LOGIN_WORKERS,
      async () => passwordHash,
      async (_c, hash) => {
        if (!(await verifyPassword(hash, PASSWORD))) throw new Error('argon2 verify failed');
        return hash;
      },
    ),
  ],
];

/** BENCH_ROWS=cookie,refresh runs only the rows whose name contains one of the words (and the baseline). */
const only = (process.env.BENCH_ROWS ?? '').split(',').filter(Boolean);
const selected = rows.filter(([name], i) => i === 0 || only.length === 0 || only.some((w) => name.includes(w)));
const loadBefore = loadavg()[0] as number;
/** Every measured run of each row, round by round (index = round). */
const runs = new Map<RowName, Measure[]>();
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? selected : [...selected].reverse();
  for (const [name, run] of order) {
    if (WARMUP_S > 0) await run(WARMUP_S);
    const m = await run(DURATION_S);
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${name}: ${m.rps.toFixed(0)} req/s, ${m.cpuUs.toFixed(0)} CPU µs/req\n`);
    runs.set(name, [...(runs.get(name) ?? []), m]);
  }
}
await app.close();
await stores.close();
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------- report

/**
 * A row's figures: the median over rounds of each field. Its ratio is paired: each round's
 * req/s over the baseline's in the same round (a few seconds apart), then the median over the
 * rounds, so that a slow phase of this shared machine moves both sides of a ratio together.
 */
function summary(name: RowName): { m: Measure; ratio: number } {
  const ms = runs.get(name) as Measure[];
  const base = runs.get('GET /healthz (baseline)') as Measure[];
  const field = (f: keyof Measure) => median(ms.map((m) => m[f]));
  return {
    m: { rps: field('rps'), p50: field('p50'), p99: field('p99'), loopP99: field('loopP99'), cpuUs: field('cpuUs') },
    ratio: pairedRatio(
      ms.map((m) => m.rps),
      base.map((m) => m.rps),
    ),
  };
}

const report = selected.map(([name]) => {
  const { m, ratio } = summary(name);
  const target = TARGETS[name];
  return {
    row: name,
    rps: Math.round(m.rps),
    p50_ms: Number(m.p50.toFixed(3)),
    p99_ms: Number(m.p99.toFixed(3)),
    ratio: Number(ratio.toFixed(3)),
    loop_delay_p99_ms: Number(m.loopP99.toFixed(2)),
    cpu_us_per_req: Math.round(m.cpuUs),
    target: target?.describe ?? null,
    pass: target ? target.pass(m, ratio) : null,
  };
});

const cells = [
  ['row', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'loop p99 ms', 'CPU µs/req', 'target', ''],
  ...report.map((r) => [
    r.row,
    String(r.rps),
    r.p50_ms.toFixed(2),
    r.p99_ms.toFixed(2),
    `${(r.ratio * 100).toFixed(1)}%`,
    r.loop_delay_p99_ms.toFixed(1),
    String(r.cpu_us_per_req),
    r.target ?? '—',
    r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ]),
];
console.log(
  `\nTessera auth server, Node ${process.version}, ${cpuSummary()}; ` +
    `1-min load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] as number).toFixed(2)} after (other processes share these cores)`,
);
console.log(
  `${CONNECTIONS} connections/workers (logins: ${LOGIN_WORKERS}), ${WARMUP_S} s warm-up + ${DURATION_S} s per row, median of ${ROUNDS} interleaved rounds (ratio: paired per round); SQLite at a temp file\n`,
);
for (const line of markdownTable(cells, { left: [0, 7] })) console.log(line);
console.log(
  "\nThe clients (autocannon; a minimal keep-alive client in closed loops for refresh and logins) run in this process, on the server's event loop:" +
    "\nevery row includes their cost, and the event-loop delay includes the client's work as well as the server's.",
);

// A partial run (BENCH_ROWS) prints its table but leaves the full results file alone.
const out = writeResults('server', report, { defaultDir: RESULTS_DIR, partial: only.length > 0 });
console.log(`\nwrote ${out}`);
