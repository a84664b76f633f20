/**
 * Test-only: runs the built `tessera` binary (`packages/cli/dist/bin.js`, so build first:
 * `npx tsc -b packages/cli`) as a child process, on free ports and in temp dirs, and reaches
 * the machine's PostgreSQL and Redis for the tests that need them (skipped with the reason
 * printed when they are missing, failing instead under `CI=true`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createScratchDatabase, deleteKeysByPrefix, freePort } from './bench/lib/scratch.js';

export { freePort };

/** The built command. */
export const CLI_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** A password the server's policy accepts (long, random). */
export const PASSWORD = `Tessera-cli-${randomBytes(9).toString('base64url')}`;
const RUN_BUDGET_MS = 60_000;
const START_BUDGET_MS = 30_000;

/** What a finished run of the command printed and returned. */
export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** A clean environment: PATH, and only the variables a test gives (nothing of the machine's TESSERA_*). */
const cleanEnv = (env: Record<string, string>): Record<string, string> => ({ PATH: process.env.PATH ?? '', ...env });

/** `node dist/bin.js …args`, with `input` on stdin (closed after it); resolves when it exits. */
export function tessera(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env: cleanEnv(options.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_BUDGET_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running `tessera serve`, with its output so far. */
export interface Served {
  child: ChildProcess;
  base: string;
  port: number;
  output(): string;
  stop(): Promise<number | null>;
}

/** `tessera serve …args` in the background; resolves once `GET /healthz` answers 200 at `base`. */
export async function serve(
  args: readonly string[],
  options: { env: Record<string, string>; port: number; cwd?: string },
): Promise<Served> {
  const child = spawn(process.execPath, [CLI_BIN, 'serve', ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (chunk: string) => {
    out = (out + chunk).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    children.delete(child);
  });
  const base = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + START_BUDGET_MS;
  for (;;) {
    if (done) throw new Error(`tessera serve exited before answering:\n${out}`);
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera serve did not answer /healthz within ${START_BUDGET_MS} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    base,
    port: options.port,
    output: () => out,
    stop: async () => {
      if (!done) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

/** A fresh temp dir, removed by {@link cleanUp}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  dirs.push(dir);
  return dir;
}

/** A random key-encryption key, as `TESSERA_KEK` takes it. */
export const randomKek = (): string => randomBytes(32).toString('base64url');

/** Kills what the tests started and removes their temp dirs. */
export function cleanUp(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Signs up by HTTP and returns the password grant's tokens. */
export async function login(base: string, email: string, password = PASSWORD): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'tessera-cli-test' },
    body: JSON.stringify({ grant_type: 'password', username: email, password }),
  });
  const body = (await res.json()) as { access_token: string; refresh_token: string };
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The PostgreSQL server the tests may create databases on. */
export const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The Redis the tests use under a prefix of their own. */
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Null when PostgreSQL and Redis both answer, else why not. */
export async function backendsMissing(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    return `PostgreSQL at ${new URL(POSTGRES_URL).host} is unreachable (${(err as Error).message || String((err as { code?: unknown }).code)}); set TESSERA_TEST_POSTGRES_URL`;
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    return `Redis at ${new URL(REDIS_URL).host} is unreachable (${(err as Error).message}); set TESSERA_TEST_REDIS_URL`;
  } finally {
    redis.disconnect();
  }
  return null;
}

/** A database of its own for a test file: created empty, dropped (with any connection left) by `drop`. */
export function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return createScratchDatabase(POSTGRES_URL, 'tessera_cli_test');
}

/** Deletes every Redis key under `prefix`, leaving the rest of a shared Redis alone. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysByPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
