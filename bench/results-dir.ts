// The committed results directory of the benchmark lab, bench/results: where `npm run bench:*`
// writes unless BENCH_RESULTS_DIR says otherwise.
import { fileURLToPath } from 'node:url';

/** bench/results, as an absolute path. */
export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
