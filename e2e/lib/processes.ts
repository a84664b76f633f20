// Process helpers shared by the e2e/verify-*.test.ts files: the auth server and the example
// resource service as real child processes on 127.0.0.1, free ports, temp dirs, bounded
// polling, and a clean-up that kills every child even when a test failed.
//
// Needs the build (`npm run build`): it runs packages/server/dist/bin.js and
// examples/resource-service/dist/main.js.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../packages/cli/src/bench/lib/scratch.js';

export { freePort };

export const SERVER_BIN = fileURLToPath(new URL('../../packages/server/dist/bin.js', import.meta.url));
export const SERVICE_BIN = fileURLToPath(new URL('../../examples/resource-service/dist/main.js', import.meta.url));
const START_BUDGET_MS = 20_000;

/** The resource server every e2e auth server knows and every example service presents: the feed needs it. */
export const FEED_CLIENT = { id: 'e2e-service', secret: 'e2e-service-feed-secret-0123' };
const STOP_BUDGET_MS = 10_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process with its captured output. */
export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<Exit>;
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit, SIGKILL after the budget. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** A fresh temp dir, removed by {@link cleanUp}. */
export function tempDir(prefix = 'tessera-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Spawns `node <args>` with a clean environment (PATH only, plus `env`) and captures its output. */
export function spawnNode(name: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (chunk: string) => {
    // Bounded: a chatty child must not grow the test's memory.
    out = (out + chunk).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_BUDGET_MS);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };
  return { name, child, exited, output: () => out, stop };
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until `GET url` answers 200; fails early, with the child's output, when the process exits. */
export async function waitHealthy(proc: Proc, url: string, timeoutMs = START_BUDGET_MS): Promise<void> {
  let exited: Exit | null = null;
  void proc.exited.then((e) => {
    exited = e;
  });
  await waitFor(
    `${proc.name} at ${url}`,
    async () => {
      if (exited) throw new Error(`${proc.name} exited (${JSON.stringify(exited)}):\n${proc.output()}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs, intervalMs: 50 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- ${proc.name} output ---\n${proc.output()}`);
  });
}

/** An auth server process: `node packages/server/dist/bin.js` in its own data dir. */
export interface AuthServer {
  proc: Proc;
  port: number;
  base: string;
  /** The issuer in its tokens (its own URL unless `issuer` was given). */
  issuer: string;
  cwd: string;
  env: Record<string, string>;
}

export interface AuthServerOptions {
  /** Default: a free port. Pass the old one to restart on the same address. */
  port?: number;
  /** Working dir (data lives in `./data`). Default: a fresh temp dir. */
  cwd?: string;
  /** `TESSERA_ISSUER`. Default `http://127.0.0.1:<port>`. */
  issuer?: string;
  /** Extra environment (TESSERA_REDIS_URL, TESSERA_REFRESH_GRACE, …). */
  env?: Record<string, string>;
}

/** Starts the auth server and waits for `/healthz`. */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const port = options.port ?? (await freePort());
  const cwd = options.cwd ?? tempDir('tessera-auth-');
  const base = `http://127.0.0.1:${port}`;
  const issuer = options.issuer ?? base;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_ISSUER: issuer,
    TESSERA_RESOURCE_SERVERS: `${FEED_CLIENT.id}:${FEED_CLIENT.secret}`,
    ...options.env,
  };
  // With Redis, login and sign-up counters live there under TESSERA_REDIS_PREFIX for an hour: a
  // prefix of this server's own keeps one run's counters from throttling the next run's logins.
  if (env.TESSERA_REDIS_URL !== undefined && env.TESSERA_REDIS_PREFIX === undefined) {
    env.TESSERA_REDIS_PREFIX = `tessera-e2e-${randomBytes(6).toString('hex')}:`;
  }
  const proc = spawnNode(`auth server :${port}`, [SERVER_BIN], { cwd, env });
  await waitHealthy(proc, `${base}/healthz`);
  return { proc, port, base, issuer, cwd, env };
}

/** Starts the same auth server again: same port, data dir and environment. */
export function restartAuthServer(server: AuthServer): Promise<AuthServer> {
  return startAuthServer({ port: server.port, cwd: server.cwd, issuer: server.issuer, env: server.env });
}

/** `node packages/server/dist/bin.js keys rotate` with the server's environment and cwd; resolves its output. */
export async function rotateKeys(server: AuthServer): Promise<string> {
  const proc = spawnNode('keys rotate', [SERVER_BIN, 'keys', 'rotate'], { cwd: server.cwd, env: server.env });
  const killer = setTimeout(() => proc.child.kill('SIGKILL'), START_BUDGET_MS);
  const exit = await proc.exited;
  clearTimeout(killer);
  if (exit.code !== 0) throw new Error(`keys rotate failed (${JSON.stringify(exit)}):\n${proc.output()}`);
  return proc.output();
}

/** A resource-service process: `node examples/resource-service/dist/main.js`. */
export interface Service {
  proc: Proc;
  port: number;
  base: string;
  args: string[];
  env: Record<string, string>;
}

export interface ServiceOptions {
  issuer: string;
  audience: string;
  port?: number;
  redis?: string;
  redisChannel?: string;
  jwksCache?: string;
  revocationsCache?: string;
  /** The feed credentials it presents; null for none. Default {@link FEED_CLIENT}. */
  credentials?: { id: string; secret: string } | null;
}

/** Starts the example resource service and waits for `/healthz`. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--issuer', options.issuer, '--audience', options.audience];
  if (options.redis) args.push('--redis', options.redis);
  if (options.redisChannel) args.push('--redis-channel', options.redisChannel);
  if (options.jwksCache) args.push('--jwks-cache', options.jwksCache);
  if (options.revocationsCache) args.push('--revocations-cache', options.revocationsCache);
  const credentials = options.credentials === undefined ? FEED_CLIENT : options.credentials;
  // By environment, as a deployment would: a secret on the command line shows in the process list.
  const env: Record<string, string> = credentials ? { TESSERA_CLIENT_ID: credentials.id, TESSERA_CLIENT_SECRET: credentials.secret } : {};
  const proc = spawnNode(`service :${port}`, [SERVICE_BIN, ...args], { env });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(proc, `${base}/healthz`);
  return { proc, port, base, args, env };
}

/** Stops a service (SIGTERM) and starts it again with the same arguments. */
export async function restartService(service: Service): Promise<Service> {
  await service.proc.stop('SIGTERM');
  const proc = spawnNode(`service :${service.port}`, [SERVICE_BIN, ...service.args], { env: service.env });
  await waitHealthy(proc, `${service.base}/healthz`);
  return { ...service, proc };
}

/** Kills every child still running (SIGKILL), waits for them, and removes the temp dirs. For `afterAll`. */
export async function cleanUp(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of children) {
    waits.push(new Promise((resolve) => child.once('exit', resolve)));
    child.kill('SIGKILL');
  }
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, STOP_BUDGET_MS))]);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
