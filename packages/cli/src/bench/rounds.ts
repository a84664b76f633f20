// Load runs, interleaved: every row gets the same warm-up and measured time, rows run one after
// another ROUNDS times with the order reversed every other round (drift spreads over all of
// them), and a row's figures are medians over its rounds. CPU time per request is read from
// /proc around each measured run: the server process's, and the stores' (PostgreSQL, Redis).
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { type Answer, Connection, stepUntil } from './lib/connection.js';
import { cpuPerRequest, sampleCpu } from './lib/cpu.js';
import { runLoad } from './lib/load.js';
import { median, pairedRatio } from './lib/stats.js';

/** One measured run of a row. */
export interface Sample {
  ok: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUs: number;
  storeCpuUs: number;
}

/** A row to measure: `run` loads the server for `seconds` and counts the 2xx answers. */
export interface Runnable {
  id: string;
  /** The server process under load, whose CPU time is counted. */
  pid: number;
  run(seconds: number): Promise<{ ok: number; elapsed: number; latency: RecordableHistogram }>;
}

/**
 * autocannon on `GET url` with fixed headers, `connections` keep-alive connections. autocannon
 * checks for the end of a run only when it takes a sample (every second by default), so a
 * sub-second run would last a whole second: sampling every 100 ms ends it on time.
 */
export function getLoad(url: string, headers: Record<string, string>, connections: number): Runnable['run'] {
  return (seconds) => runLoad({ url, connections, duration: seconds, headers, sampleInt: 100 }, url);
}

/** Throws unless the answer has `status`. */
export async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
  const a = await answer;
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status} (${String(a.body.error ?? '')})`);
  return a;
}

/**
 * `workers` closed loops on connections of their own to `port`, each running `step` back to back.
 * `init` runs once, at the first run; each loop's state carries over from run to run (a refresh
 * family keeps rotating instead of logging in again).
 */
export function closedLoop<S>(
  port: number,
  workers: number,
  init: (c: Connection, i: number) => Promise<S>,
  step: (c: Connection, state: S) => Promise<S>,
): Runnable['run'] {
  let states: S[] | null = null;
  return async (seconds) => {
    const connections = await Promise.all(Array.from({ length: workers }, () => Connection.open(port)));
    try {
      states ??= await Promise.all(connections.map((c, i) => init(c, i)));
      const current = states;
      const latency = createHistogram();
      const t0 = performance.now();
      // The loops write their last state back, so the next run goes on from there.
      const ok = await stepUntil(
        connections,
        current.map((_, i) => i),
        async (c, i) => {
          current[i] = await step(c, current[i] as S);
          return i;
        },
        t0 + seconds * 1000,
        latency,
      );
      return { ok, elapsed: (performance.now() - t0) / 1000, latency };
    } finally {
      for (const c of connections) c.close();
    }
  };
}

/** How long each run lasts, and how often. */
export interface RoundPlan {
  warmupS: number;
  durationS: number;
  rounds: number;
}

/**
 * Runs every row in interleaved rounds; returns each row's samples (index = round), or the error
 * that voided it (a row that fails once is dropped from later rounds). `tick` is called after
 * each measured run.
 */
export async function interleaved(
  rows: readonly Runnable[],
  plan: RoundPlan,
  tick: (id: string) => void,
): Promise<Map<string, Sample[] | Error>> {
  const out = new Map<string, Sample[] | Error>();
  for (let round = 0; round < plan.rounds; round++) {
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const done = out.get(row.id);
      if (done instanceof Error) {
        tick(row.id);
        continue;
      }
      try {
        if (plan.warmupS > 0) await row.run(plan.warmupS);
        const before = sampleCpu(row.pid);
        const { ok, elapsed, latency } = await row.run(plan.durationS);
        const cpu = cpuPerRequest(before, sampleCpu(row.pid), ok);
        const sample: Sample = {
          ok,
          rps: ok / elapsed,
          p50Ms: latency.percentile(50) / 1000,
          p99Ms: latency.percentile(99) / 1000,
          serverCpuUs: cpu.server,
          storeCpuUs: cpu.stores,
        };
        out.set(row.id, [...(done ?? []), sample]);
      } catch (err) {
        out.set(row.id, err instanceof Error ? err : new Error(String(err)));
      }
      tick(row.id);
    }
  }
  return out;
}

/** A row's figures: the median over its rounds of each field. */
export function summarise(samples: readonly Sample[]): Omit<Sample, 'ok'> {
  const field = (f: keyof Sample) => median(samples.map((s) => s[f]));
  return {
    rps: field('rps'),
    p50Ms: field('p50Ms'),
    p99Ms: field('p99Ms'),
    serverCpuUs: field('serverCpuUs'),
    storeCpuUs: field('storeCpuUs'),
  };
}

/** A row's req/s over its baseline's, paired round by round, then the median. */
export function ratioTo(samples: readonly Sample[], baseline: readonly Sample[]): number {
  const n = Math.min(samples.length, baseline.length);
  return pairedRatio(
    samples.slice(0, n).map((s) => s.rps),
    baseline.slice(0, n).map((s) => s.rps),
  );
}
