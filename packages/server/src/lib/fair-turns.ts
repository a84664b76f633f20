/** Options of {@link FairTurns}. */
export interface FairTurnsOptions {
  /** Most milliseconds of queued work run in one turn of the event loop (at least one task always runs). Default 4. */
  budgetMs?: number;
}

interface Task {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs bulk work (replaying a backlog to many streams at once) in small synchronous slices,
 * a few milliseconds per turn of the event loop, in the order asked for. Between turns the loop
 * polls for I/O, so other requests are read and answered while the bulk work goes on, however
 * many streams queue for it: without this, each stream's chain of awaits runs back to back in
 * one turn and every other request waits for all of them.
 */
export class FairTurns {
  #queue: Task[] = [];
  #scheduled = false;
  #budgetMs: number;

  constructor(options: FairTurnsOptions = {}) {
    this.#budgetMs = options.budgetMs ?? 4;
  }

  /** Runs `work` (synchronous) in a coming turn; resolves with what it returned, or rejects with what it threw. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#turn());
      }
    });
  }

  #turn(): void {
    this.#scheduled = false;
    const start = performance.now();
    do {
      const task = this.#queue.shift();
      if (!task) return;
      try {
        task.resolve(task.work());
      } catch (err) {
        task.reject(err);
      }
    } while (performance.now() - start < this.#budgetMs);
    if (this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => this.#turn());
    }
  }
}
