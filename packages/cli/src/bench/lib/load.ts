// HTTP load with autocannon, counted and timed by us rather than read from autocannon's summary:
// its latency histogram rounds to whole milliseconds, too coarse for sub-millisecond routes, and
// a run with a single non-2xx answer must void the row instead of averaging into it.
import type { EventEmitter } from 'node:events';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** What one load run gives back. */
export interface LoadRun {
  /** 2xx answers. */
  ok: number;
  /** Latency of each 2xx answer, µs. */
  latency: RecordableHistogram;
  /** Wall time from the start of the run to its end, s. */
  elapsed: number;
}

/**
 * Runs autocannon with `options` as given (connections, duration or amount, headers, requests,
 * pipelining: nothing is added or defaulted here). Resolves once it ends; rejects, naming the
 * run by `label`, when any answer was not a 2xx or any request failed, since such a run measured
 * something else than the route. Latencies are recorded into `latency` when one is passed (so a
 * caller can share one histogram with other measures), else into a fresh one.
 */
export function runLoad(options: autocannon.Options, label: string, latency: RecordableHistogram = createHistogram()): Promise<LoadRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ok = 0;
    const instance = autocannon(options, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0) {
        return reject(new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors`));
      }
      resolve({ ok, latency, elapsed: (performance.now() - started) / 1000 });
    });
    // The typings put this event on the client, not the instance; the instance re-emits it with the client first.
    (instance as unknown as EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) {
        ok++;
        latency.record(Math.max(1, Math.round(ms * 1000)));
      }
    });
  });
}
