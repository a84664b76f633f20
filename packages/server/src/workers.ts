import cluster, { type Worker } from 'node:cluster';

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  /** Worker processes to keep running (`TESSERA_WORKERS`). */
  workers: number;
  /** `TESSERA_LOG_LEVEL`: lines below it are not written. Default `info`. */
  logLevel?: string;
  /**
   * Workers in a row that may exit before they listen (each retried after a growing delay)
   * before the whole server gives up with exit code 1. Default 5.
   */
  maxStartFailures?: number;
  /** Milliseconds the workers get to finish their requests after SIGTERM/SIGINT, before SIGKILL. Default 30 000. */
  stopBudgetMs?: number;
}

/** The exit code a worker uses for invalid configuration (bin.ts, and any program calling startServer): no retry can fix it. */
const CONFIG_EXIT = 2;
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** True in the process that should supervise workers rather than serve (the cluster's primary). */
export const isSupervisor = (): boolean => cluster.isPrimary;

/**
 * Runs this process as the supervisor of `workers` server processes sharing one port
 * (`node:cluster`; each worker runs this process's command line again, the same script and
 * arguments, which must lead it to `startServer` as they led this process: there, being a
 * worker, it serves. Each opens its own stores, so each has its own PostgreSQL pool, and SQLite
 * workers share the file). It serves nothing itself:
 *
 * - a worker that dies after it listened is replaced at once;
 * - a worker that dies before it listened is replaced after a growing delay, and after
 *   `maxStartFailures` of those in a row everything stops with exit code 1 (a crash loop is not
 *   a running server); a worker refusing its configuration (exit 2) stops everything at once
 *   with exit code 2, its message already on stderr;
 * - SIGTERM/SIGINT are passed to every worker, which finishes its requests and exits; the
 *   supervisor exits 0 once all did cleanly (1 otherwise), SIGKILLing stragglers after the budget.
 *
 * Log lines are pino-shaped JSON on stderr, like the workers'.
 */
export function supervise(options: SuperviseOptions): void {
  const minLevel = LEVELS[options.logLevel ?? 'info'] ?? 30;
  const log = (level: number, details: Record<string, unknown>, msg: string) => {
    if (level < minLevel) return;
    process.stderr.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, role: 'supervisor', ...details, msg })}\n`);
  };
  const maxStartFailures = options.maxStartFailures ?? 5;
  const listening = new WeakSet<Worker>();
  let startFailures = 0;
  let stopping = false;
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listening.add(worker);
      startFailures = 0;
    });
  };

  const finishIfDone = () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  };

  const stopAll = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log(30, { signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    const budget = setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      exitCode = exitCode || 1;
    }, options.stopBudgetMs ?? 30_000);
    budget.unref();
    finishIfDone();
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT') exitCode = exitCode || 1;
      finishIfDone();
      return;
    }
    if (listening.has(worker)) {
      log(40, { worker: worker.process.pid, code, signal }, 'worker died; starting another');
      fork();
      return;
    }
    if (code === CONFIG_EXIT) {
      log(50, { worker: worker.process.pid, code }, 'worker refused its configuration; stopping');
      stopAll('SIGTERM', CONFIG_EXIT);
      return;
    }
    startFailures += 1;
    if (startFailures >= maxStartFailures) {
      log(50, { worker: worker.process.pid, code, signal, attempts: startFailures }, 'workers keep failing to start; giving up');
      stopAll('SIGTERM', 1);
      return;
    }
    const delay = Math.min(5000, 100 * 2 ** (startFailures - 1));
    log(40, { worker: worker.process.pid, code, signal, retryInMs: delay }, 'worker failed to start; retrying');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
  process.on('SIGINT', () => stopAll('SIGINT', 0));
  log(30, { workers: options.workers }, 'starting workers');
  for (let i = 0; i < options.workers; i++) fork();
}
