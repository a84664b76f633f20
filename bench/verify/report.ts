// The end of a bench:verify run: each row's figures from its rounds, the table, and
// bench/results/verify.json (every round kept, so a later run can be compared round by round).
import { cpuSummary } from '../../packages/cli/src/bench/lib/machine.js';
import { writeResults } from '../../packages/cli/src/bench/lib/results.js';
import { median, pairedRatio as paired } from '../../packages/cli/src/bench/lib/stats.js';
import { markdownTable } from '../../packages/cli/src/bench/lib/table.js';
import { RESULTS_DIR } from '../results-dir.js';
import { CONNECTIONS, DURATION_S, PREFILL, ROUNDS, TOKENS, WARMUP_S } from './knobs.js';
import { CONTROL, FAST_JWT, FASTIFY, HIT, MISS, type Row } from './rows.js';

/** One measured run of a row. */
export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  /** 2xx answers in the run. */
  count: number;
  /** Server CPU time (user + system, every server in the child) per answer, µs; less sensitive to other load on the machine than req/s. */
  cpuUs: number;
}

/** What a run measured: every row's rounds, which rows were asked for, how the processes were pinned. */
export interface Outcome {
  rows: Row[];
  wanted: Set<string>;
  rounds: Map<string, Measure[]>;
  /** pinApart's answer, printed in the header. */
  pinned: string;
  /** Some rows only (BENCH_ROWS): written to verify-partial.json. */
  partial: boolean;
}

/** Prints the table and the targets, and writes the results file. */
export function report({ rows, wanted, rounds, pinned, partial }: Outcome): void {
  // Each row's req/s and latencies: the median of its rounds. A ratio is paired: this row's req/s
  // over the other's in the same round (run a few seconds apart), then the median over the rounds,
  // so a slow phase of this shared machine moves both sides together. Server CPU per request is
  // the least of the rounds (the least disturbed by other load).
  const best = new Map<string, Measure>();
  const cpu = new Map<string, number>();
  for (const [name, ms] of rounds) {
    const field = (f: 'rps' | 'p50' | 'p99') => median(ms.map((m) => m[f]));
    best.set(name, { ...(ms[0] as Measure), rps: field('rps'), p50: field('p50'), p99: field('p99') });
    cpu.set(name, Math.min(...ms.map((m) => m.cpuUs)));
  }
  const pairedRatio = (name: string, versus: string) =>
    paired(
      (rounds.get(name) as Measure[]).map((m) => m.rps),
      (rounds.get(versus) as Measure[]).map((m) => m.rps),
    );

  const figures = rows
    .filter((row) => wanted.has(row.name))
    .map((row) => {
      const m = best.get(row.name);
      if (!m) return { row: row.name, skipped: row.skipped ?? 'no server' };
      return {
        row: row.name,
        rps: Math.round(m.rps),
        p50_ms: Number(m.p50.toFixed(3)),
        p99_ms: Number(m.p99.toFixed(3)),
        baseline: row.baseline,
        ratio: Number(pairedRatio(row.name, row.baseline).toFixed(3)),
        server_cpu_us_per_req: Number((cpu.get(row.name) as number).toFixed(1)),
        server_cpu_us_over_baseline: Number(((cpu.get(row.name) as number) - (cpu.get(row.baseline) as number)).toFixed(1)),
        target: row.target?.describe ?? null,
        target_ratio: row.target ? Number(pairedRatio(row.name, row.target.versus).toFixed(3)) : null,
        pass: row.target ? pairedRatio(row.name, row.target.versus) >= row.target.min : null,
        rounds: (rounds.get(row.name) ?? []).map((r) => ({ rps: Math.round(r.rps), cpu_us_per_req: Number(r.cpuUs.toFixed(1)) })),
      };
    });
  const cells = [
    ['row', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'CPU µs/req', '+µs', 'target', ''],
    ...figures.map((r) =>
      'skipped' in r
        ? [r.row, '—', '—', '—', '—', '—', '—', `skipped: ${r.skipped}`, '']
        : [
            r.row,
            String(r.rps),
            r.p50_ms.toFixed(2),
            r.p99_ms.toFixed(2),
            `${(r.ratio * 100).toFixed(1)}%`,
            r.server_cpu_us_per_req.toFixed(1),
            r.baseline === r.row ? '' : r.server_cpu_us_over_baseline.toFixed(1),
            r.target ?? '—',
            r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
          ],
    ),
  ];
  const fastJwt = best.get(FAST_JWT);
  const miss = best.get(MISS);
  console.log(`\nTessera verification in a resource service, Node ${process.version}, ${cpuSummary()}`);
  console.log(
    `${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per row, median of ${ROUNDS} interleaved rounds (ratios paired per round); servers in one child process, autocannon in this one; pinned: ${pinned};` +
      `\nTessera caches pre-filled with ${PREFILL} other tokens; CPU µs/req = the server process's CPU time per answer (least of the rounds), +µs = over the row's baseline\n`,
  );
  for (const line of markdownTable(cells, { left: [0, 7] })) console.log(line);
  if (fastJwt && miss) {
    const cpuRatio = (cpu.get(FAST_JWT) as number) / (cpu.get(MISS) as number);
    console.log(
      `\ncache miss vs fast-jwt: ${(pairedRatio(MISS, FAST_JWT) * 100).toFixed(1)}% of its req/s; by server CPU per request, ${(cpuRatio * 100).toFixed(1)}%`,
    );
  }
  const hit = best.get(HIT);
  if (hit && best.get(CONTROL) && best.get(FASTIFY)) {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `cache hit vs the same route without auth: ${pct(pairedRatio(HIT, CONTROL))} of its req/s, by server CPU ${pct((cpu.get(CONTROL) as number) / (cpu.get(HIT) as number))}; ` +
        `vs GET /healthz: ${pct(pairedRatio(HIT, FASTIFY))} of its req/s, by server CPU ${pct((cpu.get(FASTIFY) as number) / (cpu.get(HIT) as number))}`,
    );
  }
  console.log(
    'targets: cache hit ≥ 85% of the no-auth baseline (the same route and answer, no token); cache miss within 5% of the fast-jwt verifier (≥ 95% of its req/s)',
  );

  // A partial run (BENCH_ROWS) prints its table but leaves the full results file alone.
  const out = writeResults(
    'verify',
    {
      measured: new Date().toISOString(),
      command: 'npm run bench:verify',
      node: process.version,
      cpus: cpuSummary(),
      connections: CONNECTIONS,
      warmup_s: WARMUP_S,
      duration_s: DURATION_S,
      rounds: ROUNDS,
      distinct_tokens: TOKENS,
      rows: figures,
    },
    { defaultDir: RESULTS_DIR, partial },
  );
  console.log(`\nwrote ${out}`);
}
