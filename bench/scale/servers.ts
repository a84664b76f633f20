// The auth servers of the scale benchmark: real processes (packages/server/dist/bin.js), one per
// backend, so that TESSERA_WORKERS (node:cluster) can be compared and every backend pays the
// same process and HTTP costs. Each gets a fresh PostgreSQL database or SQLite file and a Redis
// key prefix of its own, removed at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createScratchDatabase, deleteKeysByPrefix, freePort, postgresAdmin } from '../../packages/cli/src/bench/lib/scratch.js';

const SERVER_BIN = fileURLToPath(new URL('../../packages/server/dist/bin.js', import.meta.url));

/** PostgreSQL with a role that may create databases; Redis. Overridable as in the tests. */
export const ADMIN_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Credentials of the resource server allowed to read the revocation feed (the SSE subscriber). */
export const FEED_CLIENT = { id: 'bench-feed', secret: randomBytes(18).toString('base64url') };

/** A running auth server. */
export interface Server {
  name: string;
  port: number;
  base: string;
  child: ChildProcess;
  output(): string;
}

const children = new Set<ChildProcess>();
const databases: string[] = [];
const prefixes: string[] = [];
const dirs: string[] = [];

const admin = (sql: string) => postgresAdmin(ADMIN_URL, sql);

/** A fresh PostgreSQL database; its URL. Dropped by {@link cleanUp}. */
export async function createDatabase(): Promise<string> {
  const database = await createScratchDatabase(ADMIN_URL, 'tessera_bench');
  databases.push(database.name);
  return database.url;
}

/** A fresh SQLite URL in a temp dir. Removed by {@link cleanUp}. */
export function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scale-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'bench.db')}`;
}

/** A Redis key prefix for one deployment, deleted by {@link cleanUp}. */
export function redisPrefix(): string {
  const prefix = `tessera-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
  prefixes.push(prefix);
  return prefix;
}

/**
 * Starts `bin.js` with `env` (plus the bench's common settings) and waits for /healthz. With
 * `cpus`, the server runs on those CPUs only (`taskset`), and each of its workers then on one of
 * them ({@link pinWorkers}).
 */
export async function startServer(name: string, env: Record<string, string>, options: { cpus?: number[] } = {}): Promise<Server> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const command = options.cpus
    ? (['taskset', ['-c', options.cpus.join(','), process.execPath, SERVER_BIN]] as const)
    : ([process.execPath, [SERVER_BIN]] as const);
  const child = spawn(command[0], [...command[1]], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_ISSUER: base,
      TESSERA_RESOURCE_SERVERS: `${FEED_CLIENT.id}:${FEED_CLIENT.secret}`,
      // Every bench user signs up from 127.0.0.1. The per-user session cap stays at its default:
      // the login rows take their users in turn, so none reaches it.
      TESSERA_SIGNUPS_PER_HOUR: '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (chunk: string) => {
    out = (out + chunk).slice(-10_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz within 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const server = { name, port, base, child, output: () => out };
  if (options.cpus && Number(env.TESSERA_WORKERS ?? 1) > 1) pinWorkers(server, options.cpus);
  return server;
}

/**
 * Moves each worker of a `TESSERA_WORKERS` server (every thread of it: the main thread and the
 * thread pool argon2 runs on) to a CPU of its own from `cpus`, in turn. The supervisor stays
 * where it was started; it serves nothing.
 */
function pinWorkers(server: Server, cpus: number[]): void {
  const pid = server.child.pid as number;
  const workers = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  if (workers.length === 0) throw new Error(`${server.name}: no workers to pin`);
  workers.forEach((worker, i) => {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpus[i % cpus.length]), String(worker)], { stdio: 'ignore' });
  });
}

/** Stops every server (SIGTERM, SIGKILL after 10 s), drops the databases, deletes the Redis keys and temp dirs. */
export async function cleanUp(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const name of databases.splice(0)) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  if (prefixes.length > 0) {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    for (const prefix of prefixes.splice(0)) await deleteKeysByPrefix(redis, prefix);
    redis.disconnect();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
