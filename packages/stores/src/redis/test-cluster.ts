// Test-only: throwaway Redis servers on free ports in a temporary directory: a 3-master Redis
// Cluster, or one server of a test's own (a password, a pause, a killed connection: nothing the
// shared Redis of the other tests should see).
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './test-redis.js';

const run = promisify(execFile);

/** A running test cluster. */
export interface TestCluster {
  /** One `redis://127.0.0.1:<port>` URL per master. */
  urls: string[];
  ports: number[];
  /** Kills the servers and removes their directory. */
  stop(): Promise<void>;
}

/** Null when redis-server and redis-cli can be run, else why not. */
export function clusterUnavailable(): string | null {
  for (const bin of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) return `${bin} cannot be run (${probe.error?.message ?? `exit ${probe.status}`})`;
  }
  return null;
}

/** Runs `redis-server`s in a fresh directory; `stop` kills them and removes it. */
function serverGroup() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const children: ChildProcess[] = [];
  // Should the test process die first, servers left behind would hold their ports.
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  return {
    dir,
    start(port: number, args: string[]): void {
      const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
      children.push(spawn('redis-server', [...common, ...args], { stdio: 'ignore' }));
    },
    async stop(): Promise<void> {
      process.removeListener('exit', killAll);
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running test server of one's own. */
export interface TestRedis {
  port: number;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts one `redis-server` with `args` (e.g. `['--requirepass', 'secret']`), on `port` or a free
 * one, and waits until it answers.
 */
export async function startRedis(args: string[] = [], options: { port?: number; timeoutMs?: number } = {}): Promise<TestRedis> {
  const group = serverGroup();
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    const port = options.port ?? (await freePort());
    group.start(port, args);
    const at = args.indexOf('--requirepass');
    const auth = at >= 0 ? { password: args[at + 1] } : {};
    await waitFor(port, Date.now() + timeoutMs, async (r) => (await r.ping()) === 'PONG', auth);
    return { port, stop: group.stop };
  } catch (err) {
    await group.stop();
    throw err;
  }
}

/** Starts three masters, joins them with `redis-cli --cluster create`, and waits for cluster_state:ok. */
export async function startCluster(timeoutMs = 20_000): Promise<TestCluster> {
  const group = serverGroup();
  try {
    const ports: number[] = [];
    // The cluster bus listens on port + 10000: that one must be free as well.
    for (let i = 0; i < 3; i++) {
      let port = await freePort(10_000);
      while (ports.includes(port)) port = await freePort(10_000);
      ports.push(port);
    }
    for (const port of ports) {
      group.start(port, ['--cluster-enabled', 'yes', '--cluster-config-file', join(group.dir, `nodes-${port}.conf`)]);
    }
    const deadline = Date.now() + timeoutMs;
    await Promise.all(ports.map((port) => waitFor(port, deadline, async (r) => (await r.ping()) === 'PONG')));
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs });
    await Promise.all(
      ports.map((port) => waitFor(port, deadline, async (r) => String(await r.call('CLUSTER', 'INFO')).includes('cluster_state:ok'))),
    );
    return { urls: ports.map((port) => `redis://127.0.0.1:${port}`), ports, stop: group.stop };
  } catch (err) {
    await group.stop();
    throw err;
  }
}

async function waitFor(
  port: number,
  deadline: number,
  ready: (redis: Redis) => Promise<boolean>,
  auth: { password?: string } = {},
): Promise<void> {
  const redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...auth });
  redis.on('error', () => {});
  try {
    for (;;) {
      try {
        if (redis.status !== 'ready') await redis.connect();
        if (await ready(redis)) return;
      } catch {
        // Not listening yet, or not in the state we wait for.
      }
      if (Date.now() > deadline) throw new Error(`Redis on port ${port} not ready in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}
