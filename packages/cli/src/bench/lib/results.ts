// Where a run's figures go. The bench/ scripts of the repository write bench/results/<name>.json,
// committed, so that a later run can be compared with it; a partial run (some rows or algorithms
// only) writes <name>-partial.json instead (git-ignored), so it never overwrites a full run's
// figures with a subset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** How to write a results file. */
export interface WriteOptions {
  /** The directory written to unless BENCH_RESULTS_DIR is set (relative to the working directory). Required. */
  defaultDir: string;
  /** A subset of the benchmark ran: write `<name>-partial.json`. Default false. */
  partial?: boolean;
  /** JSON indentation; 0 writes one line (the shape bench/results/tokens.json has). Default 2. */
  indent?: number;
}

/**
 * Writes `data` as JSON (with a final newline) to `<dir>/<name>.json` or `<name>-partial.json`,
 * `dir` being BENCH_RESULTS_DIR when set (so a quick check of a run can leave committed files
 * alone), else `defaultDir`; returns the path.
 */
export function writeResults(name: string, data: unknown, options: WriteOptions): string {
  const fromEnv = process.env.BENCH_RESULTS_DIR;
  const dir = fromEnv ? resolve(fromEnv) : options.defaultDir;
  const out = join(dir, `${name}${options.partial ? '-partial' : ''}.json`);
  mkdirSync(dir, { recursive: true });
  const indent = options.indent ?? 2;
  writeFileSync(out, `${indent === 0 ? JSON.stringify(data) : JSON.stringify(data, null, indent)}\n`);
  return out;
}
