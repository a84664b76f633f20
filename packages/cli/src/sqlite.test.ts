// The `tessera` command against SQLite: every administration command (test-admin-suite.ts)
// beside a running `tessera serve`, and serve's own flags.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminSuite } from './test-admin-suite.js';
import { cleanUp, freePort, PASSWORD, randomKek, serve, tempDir, tessera } from './test-support.js';

afterAll(cleanUp);

let dir = '';
const kek = randomKek();
adminSuite('tessera on SQLite', {
  env: () => {
    dir ||= tempDir();
    return { TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, TESSERA_KEK: kek };
  },
  cwd: () => (dir ||= tempDir()),
});

describe('a SQLite database that is not there', () => {
  it('is refused by every command but users add, which creates it (the first admin, before the first start)', async () => {
    const cwd = tempDir();
    const env = { TESSERA_KEK: kek };
    for (const args of [
      ['users', 'list'],
      ['keys', 'list'],
      ['sessions', 'list'],
      ['roles', 'grant', 'a@example.com', 'admin'],
    ]) {
      const result = await tessera(args, { cwd, env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('TESSERA_DATABASE_URL: there is no database at ./data/tessera.db');
    }
    const typo = await tessera(['users', 'list', '--database-url', `sqlite:${join(cwd, 'typo', 'x.db')}`], { cwd, env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--database-url \(TESSERA_DATABASE_URL\): there is no database at /);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    expect(existsSync(join(cwd, 'typo'))).toBe(false);

    const added = await tessera(['users', 'add', 'first@example.com', '--role', 'admin', '--password-stdin'], {
      cwd,
      env,
      input: `${PASSWORD}\n`,
    });
    expect(added.code, added.stderr).toBe(0);
    const listed = await tessera(['users', 'list', '--json'], { cwd, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ email: 'first@example.com', roles: ['admin'] }]);
  });
});

describe('tessera serve', () => {
  it('flags override the environment: --port and --issuer win over PORT and TESSERA_ISSUER', async () => {
    const cwd = tempDir();
    const [port, envPort] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${port}`;
    const server = await serve(['--port', String(port), '--host', '127.0.0.1', '--issuer', issuer, '--access-token-ttl', '120'], {
      port,
      cwd,
      env: { PORT: String(envPort), TESSERA_ISSUER: 'http://env.example', TESSERA_ACCESS_TOKEN_TTL: '900', TESSERA_LOG_LEVEL: 'warn' },
    });
    try {
      const discovery = (await (await fetch(`${server.base}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(issuer);
      // Nothing listens on the port the environment named.
      await expect(fetch(`http://127.0.0.1:${envPort}/healthz`)).rejects.toThrow();
      // Without a database URL or a KEK: SQLite under ./data, and the KEK generated into the data dir.
      const keys = await tessera(['keys', 'list', '--json'], { cwd });
      expect(keys.code, keys.stderr).toBe(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('a bad flag value exits 2, naming the flag and its variable', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'eighty'], /--port \(PORT\): must be an integer/],
      [['--access-token-ttl', '5'], /--access-token-ttl \(TESSERA_ACCESS_TOKEN_TTL\): must be between 30 and 86400/],
      [['--signing-alg', 'none'], /--signing-alg \(TESSERA_SIGNING_ALG\): must be one of/],
      [['--session-store', 'files'], /--session-store \(TESSERA_SESSION_STORE\): must be database or redis/],
      [['--issuer', 'ftp://x'], /--issuer \(TESSERA_ISSUER\): must be an http\(s\) URL/],
      [['--workers', ''], /--workers: must not be empty/],
      [['--host', 'no-such-host.invalid', '--port', '0'], /--host \(HOST\): cannot listen on no-such-host\.invalid/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(['serve', ...args], { cwd: tempDir() });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    // A bad variable without a flag is named as the variable.
    const fromEnv = await tessera(['serve'], { env: { PORT: 'eighty' }, cwd: tempDir() });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('invalid configuration: PORT: must be an integer');
  });

  it('--workers 2: the supervisor forks this binary, whose workers serve', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const server = await serve(['--port', String(port), '--host', '127.0.0.1', '--workers', '2'], {
      port,
      cwd,
      env: { TESSERA_LOG_LEVEL: 'info', TESSERA_KEK: randomKek() },
    });
    try {
      expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
      // Two processes listen, each logging as itself (its pid), and neither is the supervisor this command started.
      const workerPids = () =>
        new Set(
          server
            .output()
            .split('\n')
            .filter((line) => /listening/i.test(line))
            .map((line) => Number(/"pid":(\d+)/.exec(line)?.[1])),
        );
      for (let i = 0; i < 200 && workerPids().size < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(workerPids().size).toBe(2);
      expect(workerPids().has(server.child.pid ?? -1)).toBe(false);
      expect(server.output()).toContain(`"pid":${server.child.pid},"role":"supervisor"`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
