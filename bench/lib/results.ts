// Where a run's figures go: bench/results/<name>.json, committed, so that a later run can be
// compared with it. A partial run (some rows or algorithms only) writes <name>-partial.json
// instead (git-ignored), so it never overwrites a full run's figures with a subset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed results directory, bench/results. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** How to write a results file. */
export interface WriteOptions {
  /** A subset of the benchmark ran: write `<name>-partial.json`. Default false. */
  partial?: boolean;
  /** JSON indentation; 0 writes one line (the shape bench/results/tokens.json has). Default 2. */
  indent?: number;
  /**
   * The directory written to. Default BENCH_RESULTS_DIR when set (relative to the working
   * directory; a quick check of a run can then leave the committed files alone), else bench/results.
   */
  dir?: string;
}

/** Writes `data` as JSON (with a final newline) to `<dir>/<name>.json` or `<name>-partial.json`; returns the path. */
export function writeResults(name: string, data: unknown, options: WriteOptions = {}): string {
  const fromEnv = process.env.BENCH_RESULTS_DIR;
  const dir = options.dir ?? (fromEnv ? resolve(fromEnv) : RESULTS_DIR);
  const out = join(dir, `${name}${options.partial ? '-partial' : ''}.json`);
  mkdirSync(dir, { recursive: true });
  const indent = options.indent ?? 2;
  writeFileSync(out, `${indent === 0 ? JSON.stringify(data) : JSON.stringify(data, null, indent)}\n`);
  return out;
}
