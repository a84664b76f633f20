// TESSERA_WORKERS=N: one supervisor process forks N servers sharing the port (node:cluster), here
// over one SQLite file. A worker that dies is replaced; SIGTERM stops them all gracefully; a
// worker that cannot start ends the whole server with a non-zero code instead of a crash loop.
//
// Needs the build (`npm run build`): it runs packages/server/dist/bin.js. Linux: it lists a
// process's children with pgrep.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { login, signUp, uniqueEmail } from './lib/http.js';
import { cleanUp, freePort, type Proc, SERVER_BIN, spawnNode, tempDir, waitFor, waitHealthy } from './lib/processes.js';

/** Process ids of `pid`'s children. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function startWorkers(cwd: string, port: number, env: Record<string, string> = {}): Proc {
  return spawnNode(`workers :${port}`, [SERVER_BIN], {
    cwd,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_ISSUER: `http://127.0.0.1:${port}`,
      TESSERA_DATABASE_URL: 'sqlite:./data/tessera.db',
      TESSERA_WORKERS: '2',
      ...env,
    },
  });
}

describe('TESSERA_WORKERS', () => {
  afterAll(cleanUp);

  it('runs N workers on one port over one SQLite file, replaces one that dies, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = startWorkers(tempDir(), port);
    await waitHealthy(proc, `${base}/healthz`);
    const pid = proc.child.pid as number;
    const first = await waitFor('two workers', () => {
      const pids = childrenOf(pid);
      return pids.length === 2 ? pids : undefined;
    });
    // Users written through one worker are seen by the other (the same file); the connections
    // are spread over both, so a few rounds cross between them.
    for (let i = 0; i < 4; i++) {
      const email = uniqueEmail('workers');
      await signUp(base, email);
      await login(base, email);
    }
    process.kill(first[0] as number, 'SIGKILL');
    const replaced = await waitFor('a replacement worker', () => {
      const pids = childrenOf(pid);
      return pids.length === 2 && !pids.includes(first[0] as number) ? pids : undefined;
    });
    expect(replaced).toContain(first[1]);
    await waitFor('answers after the replacement', async () => (await fetch(`${base}/healthz`)).status === 200);
    const exit = await proc.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    for (const worker of replaced) expect(() => process.kill(worker, 0)).toThrow();
  }, 60_000);

  it('exits non-zero when workers keep failing to start (here: the port is taken)', async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const proc = startWorkers(tempDir(), port);
      const exit = await proc.exited;
      expect(exit.code, proc.output()).toBe(1);
      expect(proc.output()).toMatch(/keep failing to start/);
    } finally {
      squatter.close();
    }
  }, 60_000);

  it('exits 2, naming TESSERA_KEK, when the workers cannot open the stored keys', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const first = startWorkers(cwd, port, { TESSERA_KEK: randomBytes(32).toString('base64url') });
    await waitHealthy(first, `http://127.0.0.1:${port}/healthz`);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const second = startWorkers(cwd, port, { TESSERA_KEK: randomBytes(32).toString('base64url') });
    const exit = await second.exited;
    expect(exit.code, second.output()).toBe(2);
    expect(second.output()).toMatch(/TESSERA_KEK/);
    expect(second.output()).toMatch(/must use the same key/);
  }, 60_000);
});
