import { setImmediate } from 'node:timers';

// Bound once at load: a test suite that fakes the global timers later must not be able to park
// every lookup behind a fake clock.
const checkPhase = setImmediate;

/** Schedules a batch for the loop's check phase: after the poll phase has read every ready socket. */
export type Schedule = (run: () => void) => void;

/** Options of {@link createTurnBatcher}. */
interface TurnBatcherOptions {
  /**
   * Most distinct keys per call of `load`; a larger batch is split into several calls, all made
   * at once. Bounds the size of one statement. Default {@link DEFAULT_MAX_BATCH}.
   */
  maxBatch?: number;
  /**
   * Called when a turn's first lookup opens a batch; the function it returns is called as soon as
   * the batch has been handed to `load` (synchronously after the calls, so the work `load` started,
   * a pool's query, is by then tracked on its own). Lets a pool's `close()` wait for lookups that
   * were asked for but not yet sent. If it throws (a closed pool), that lookup fails with its
   * error and opens no batch. Default: none.
   */
  hold?: () => () => void;
  /** When a batch runs. Default: `setImmediate`, bound when this module loads. */
  schedule?: Schedule;
}

/** Default of {@link TurnBatcherOptions.maxBatch}. */
const DEFAULT_MAX_BATCH = 256;

/**
 * Coalesces the point lookups asked for within one turn of the event loop into one call of
 * `load` (one statement, one round trip). The first lookup of a turn schedules the batch with
 * `setImmediate`, which runs once the poll phase has taken in every request that was ready, so
 * under concurrent load the lookups of several requests share one query. `pick` then turns what
 * `load` found into each caller's answer, once per caller.
 *
 * Why: on a busy server each point read costs a socket write and a read on both ends and a
 * parse, plan and executor start-up in the database; once per batch rather than once per request,
 * the per-request lookup (the session of every cookie-authenticated request) gets markedly cheaper.
 *
 * Guarantees:
 * - nothing is cached: `load` is called after the lookup was asked for (in a later phase of the
 *   loop), so it sees every write committed before the call, and each batch reads afresh;
 * - a key asked for twice in one turn is sent once, but `pick` runs for each caller, so callers
 *   never share a mutable answer (the found value passed to `pick` must be treated as read-only);
 * - if `load` fails (throws or rejects), every caller of its keys is rejected with that very
 *   error, so an outage is still recognised by `isStoreUnavailable`;
 * - if `pick` throws, only its own caller is rejected.
 *
 * @example
 * const lookup = createTurnBatcher(
 *   async (ids) => new Map((await db.query(`SELECT … WHERE id = ANY($1::text[])`, [ids])).rows.map((r) => [r.id, r])),
 *   (found, id) => { const r = found.get(id); return r ? toSession(r) : null; },
 * );
 * const session = await lookup('sid_…');
 */
export function createTurnBatcher<F, T>(
  load: (keys: string[]) => Promise<F>,
  pick: (found: F, key: string) => T,
  options: TurnBatcherOptions = {},
): (key: string) => Promise<T> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError('maxBatch must be a positive integer');
  const schedule = options.schedule ?? checkPhase;
  const { hold } = options;

  type Waiter = { resolve: (value: T) => void; reject: (err: unknown) => void };
  /** The open batch: the callers waiting on each key, in the order asked. */
  let open: Map<string, Waiter[]> | undefined;
  let release: (() => void) | undefined;

  /** Loads `keys` and answers their callers; never throws, and settles every caller of `keys`. */
  const run = (batch: Map<string, Waiter[]>, keys: string[]): void => {
    let loading: Promise<F>;
    try {
      loading = load(keys);
    } catch (err) {
      loading = Promise.reject(err);
    }
    void loading.then(
      (found) => {
        for (const key of keys) {
          for (const waiter of batch.get(key) as Waiter[]) {
            try {
              waiter.resolve(pick(found, key));
            } catch (err) {
              waiter.reject(err);
            }
          }
        }
      },
      (err: unknown) => {
        for (const key of keys) for (const waiter of batch.get(key) as Waiter[]) waiter.reject(err);
      },
    );
  };

  const flush = (): void => {
    const batch = open as Map<string, Waiter[]>;
    const done = release;
    open = undefined;
    release = undefined;
    const keys = [...batch.keys()];
    try {
      for (let i = 0; i < keys.length; i += maxBatch) run(batch, keys.slice(i, i + maxBatch));
    } finally {
      done?.();
    }
  };

  return (key) =>
    new Promise<T>((resolve, reject) => {
      if (!open) {
        // Throwing here rejects this lookup alone, before a batch exists.
        const done = hold?.();
        open = new Map();
        release = done;
        schedule(flush);
      }
      const waiting = open.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else open.set(key, [{ resolve, reject }]);
    });
}
