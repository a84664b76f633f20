import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from './ports.js';

/** Where the auth server's entry point is: next to `@tessera/server`'s main module. */
export function serverBin(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@tessera/server'))), 'bin.js');
}

/** What the auth process is doing, as the app's control panel shows it. */
export type AuthState = 'running' | 'stopping' | 'stopped' | 'starting';

/** Options of {@link AuthProcess}. */
export interface AuthProcessOptions {
  port: number;
  /** The environment the server reads its configuration from (PORT and HOST are set here). */
  env: Record<string, string>;
  /** Where each line the server prints goes. */
  log: (line: string) => void;
  /** How long a start may take before it counts as failed (ms). Default 20 000. */
  startTimeoutMs?: number;
}

const STOP_BUDGET_MS = 10_000;

/**
 * The real auth server (`@tessera/server`'s `bin.js`) as a child process that can be stopped and
 * started again on the same port and data: the demo's outage switch. Start and stop calls are
 * serialized, so a double click cannot start two servers.
 */
export class AuthProcess {
  readonly #options: AuthProcessOptions;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #state: AuthState = 'stopped';
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: AuthProcessOptions) {
    this.#options = options;
  }

  get state(): AuthState {
    return this.#state;
  }

  /** Starts the server and resolves once `/healthz` answers; rejects (with its output) when it exits or times out first. */
  start(): Promise<void> {
    return this.#serialize(() => this.#start());
  }

  /** Stops the server gracefully (SIGTERM; SIGKILL after 10 s) and resolves once it has exited. */
  stop(): Promise<void> {
    return this.#serialize(() => this.#stop());
  }

  #serialize(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step, step);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #start(): Promise<void> {
    if (this.#child) return;
    const { port, env, log } = this.#options;
    this.#state = 'starting';
    const child = spawn(process.execPath, [serverBin()], {
      env: { ...env, PORT: String(port), HOST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let recent = '';
    const relay = (chunk: string) => {
      recent = (recent + chunk).slice(-4_000);
      for (const line of chunk.split('\n')) if (line.trim()) log(`auth server: ${line}`);
    };
    child.stdout?.setEncoding('utf8').on('data', relay);
    child.stderr?.setEncoding('utf8').on('data', relay);
    let exitedEarly: string | null = null;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitedEarly = `exited (${signal ?? `code ${code}`})`;
        if (this.#child === child) {
          this.#child = null;
          this.#state = 'stopped';
        }
        resolve();
      });
    });
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 20_000);
    for (;;) {
      if (exitedEarly) {
        this.#state = 'stopped';
        throw new Error(`the auth server ${exitedEarly} while starting:\n${recent.trim()}`);
      }
      if (await healthy(port)) break;
      if (Date.now() > deadline) {
        await this.#stop();
        throw new Error(`the auth server did not answer /healthz within the start budget:\n${recent.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#state = 'running';
  }

  /** Last resort when the launcher itself is exiting: SIGKILL at once, so no server outlives it. */
  killNow(): void {
    this.#child?.kill('SIGKILL');
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#state = 'stopping';
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_BUDGET_MS);
    await this.#exited;
    clearTimeout(killer);
    this.#child = null;
    this.#state = 'stopped';
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
