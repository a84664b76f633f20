// Progress of a run: one bar over every planned step, with the phase under way, drawn on stderr.
// A bar only when stdout and stderr are terminals: piped output and --json get nothing (the
// report is the output).
import cliProgress from 'cli-progress';

/** Where the run is. */
export interface Progress {
  /** Names the phase under way. */
  phase(name: string): void;
  /** Adds `n` planned steps (negative when less work turned out to be needed than planned). */
  plan(n: number): void;
  /** `n` steps done (default 1). */
  tick(n?: number): void;
  stop(): void;
}

const SILENT: Progress = { phase: () => {}, plan: () => {}, tick: () => {}, stop: () => {} };

/** A bar on stderr when `enabled` and both stdout and stderr are terminals; otherwise nothing. */
export function progressBar(enabled: boolean): Progress {
  if (!enabled || !process.stdout.isTTY || !process.stderr.isTTY) return SILENT;
  const bar = new cliProgress.SingleBar(
    { format: 'tessera bench |{bar}| {percentage}% | {phase}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let done = 0;
  let phase = 'starting';
  bar.start(1, 0, { phase });
  return {
    phase(name) {
      phase = name;
      bar.update(done, { phase });
    },
    plan(n) {
      total += n;
      bar.setTotal(Math.max(1, total));
    },
    tick(n = 1) {
      done += n;
      bar.update(done, { phase });
    },
    stop() {
      bar.stop();
    },
  };
}
