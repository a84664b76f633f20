// The two load shapes of the scale benchmark, against a server in another process: autocannon on
// a GET (open loop over keep-alive connections), and closed loops for the requests that depend on
// the previous answer (refresh rotations) or that must not share a connection (logins).
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { type Answer, Connection, stepUntil } from '../../packages/cli/src/bench/lib/connection.js';
import { runLoad } from '../../packages/cli/src/bench/lib/load.js';

/** One measured run. */
export interface Measure {
  /** Successful requests in the run. */
  ok: number;
  rps: number;
  /** Latency percentiles of the successful requests, ms. */
  p50: number;
  p99: number;
}

const summarise = (ok: number, seconds: number, latency: RecordableHistogram): Measure => ({
  ok,
  rps: ok / seconds,
  p50: latency.percentile(50) / 1000,
  p99: latency.percentile(99) / 1000,
});

/** autocannon on `GET base+path` with `headers`; any non-2xx answer voids the run. */
export function getLoad(base: string, path: string, headers: Record<string, string>, connections: number) {
  return async (seconds: number): Promise<Measure> => {
    const run = await runLoad({ url: `${base}${path}`, connections, duration: seconds, headers }, `${base}${path}`);
    return summarise(run.ok, run.elapsed, run.latency);
  };
}

/** Throws unless the answer has `status`. */
export async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
  const a = await answer;
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status}: ${JSON.stringify(a.body)}`);
  return a;
}

/**
 * `workers` closed loops on connections of their own to `port`, each running `step` back to back
 * for the measured time after `init`; counts the steps (a failed step throws and voids the run).
 */
export function closedLoop<S>(
  port: number,
  workers: number,
  init: (c: Connection, i: number) => Promise<S>,
  step: (c: Connection, state: S) => Promise<S>,
) {
  return async (seconds: number): Promise<Measure> => {
    const connections = await Promise.all(Array.from({ length: workers }, () => Connection.open(port)));
    try {
      const states = await Promise.all(connections.map((c, i) => init(c, i)));
      const latency = createHistogram();
      const t0 = performance.now();
      const until = t0 + seconds * 1000;
      const ok = await stepUntil(connections, states, step, until, latency);
      return summarise(ok, (performance.now() - t0) / 1000, latency);
    } finally {
      for (const c of connections) c.close();
    }
  };
}
