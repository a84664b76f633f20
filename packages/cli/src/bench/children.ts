// The bench's server processes: the auth server(s) and the resource service run in children of
// their own, so the load generator (this process) never shares an event loop with them, and so
// the auth server can be killed outright. A child reports `{ type: 'ready', ... }` over IPC once
// it listens, and exits when told `{ type: 'stop' }` or when this process goes away.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A started child and what it reported when ready. */
export interface Child<R> {
  process: ChildProcess;
  ready: R;
  /** Asks the child to close its servers and exit; SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** The running module's extension: `.ts` under tsx or vitest, `.js` from dist. */
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Forks `./<entry>.js` (or `.ts` when this module runs from source, with tsx loaded) with `spec`
 * as its first message, and resolves once it reports ready. Rejects with the child's last output
 * when it exits first.
 */
export async function startChild<R>(entry: 'auth-process' | 'resource-process', spec: unknown): Promise<Child<R>> {
  const file = fileURLToPath(new URL(`./${entry}${EXT}`, import.meta.url));
  const child = fork(file, [], {
    execArgv: EXT === '.ts' ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: process.env,
  });
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-4_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const ready = await new Promise<R>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the bench's ${entry} exited (${code}) before it was ready:\n${output}`));
    child.once('exit', onExit);
    child.on('message', (m: { type?: string; error?: string }) => {
      if (m?.type === 'ready') {
        child.off('exit', onExit);
        resolve(m as R);
      } else if (m?.type === 'failed') {
        child.off('exit', onExit);
        child.kill('SIGKILL');
        reject(new Error(`the bench's ${entry} failed to start: ${m.error}`));
      }
    });
    child.send({ type: 'spec', spec });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  };
  return { process: child, ready, stop };
}

/**
 * In a child: waits for the spec, runs `start` with it, reports `ready` with what it returns,
 * and on `stop` (or when the parent is gone) runs the returned `close` and exits.
 */
export function childMain<S, R extends object>(start: (spec: S) => Promise<{ ready: R; close: () => Promise<void> }>): void {
  let close: (() => Promise<void>) | null = null;
  const exit = async () => {
    await close?.().catch(() => {});
    process.exit(0);
  };
  process.on('disconnect', () => void exit());
  process.on('message', (m: { type?: string; spec?: S }) => {
    if (m?.type === 'stop') void exit();
    if (m?.type !== 'spec') return;
    start(m.spec as S).then(
      (started) => {
        close = started.close;
        process.send?.({ type: 'ready', ...started.ready });
      },
      (err: unknown) => process.send?.({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
