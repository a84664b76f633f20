// What a run executed on, and which cores each process of it may use: printed with every table,
// since figures from a 1-core container and from a laptop are not comparable.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';

/** `<cores> × <model>`, e.g. `2 × AMD EPYC`: how results files and table headers name the machine. */
export function cpuSummary(): string {
  return `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}`;
}

/**
 * On Linux with two or more cores, pins the server process to the last core and this process
 * (the load generator) to the others, every thread of each (`taskset -a`): the two no longer
 * trade cores with each other mid-run, which is most of the round-to-round spread on a small
 * machine. BENCH_PIN=0 turns it off; without taskset the bench runs unpinned. Returns what was
 * done, in words, for the table's header.
 */
export function pinApart(serverPid: number | undefined): string {
  if (process.env.BENCH_PIN === '0') return 'no (BENCH_PIN=0)';
  const n = availableParallelism();
  if (process.platform !== 'linux' || n < 2 || serverPid === undefined) return 'no (needs Linux and 2+ cores)';
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(n - 1), String(serverPid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', n === 2 ? '0' : `0-${n - 2}`, String(process.pid)], { stdio: 'ignore' });
    return `server on core ${n - 1}, load generator on ${n === 2 ? 'core 0' : `cores 0-${n - 2}`}`;
  } catch {
    return 'no (taskset failed or is missing)';
  }
}
