// The published packages as a user gets them: `npm pack` every publishable workspace, install
// the tarballs into an empty project outside the repository, and use them only through their
// public names. Catches what the in-repo tests cannot see: a file the server reads at run time
// but the package does not ship, an `exports` entry pointing nowhere, declarations that do not
// type-check in a strict project, a `bin` that does not start.
//
// Needs the build (`npm run build`): it packs the packages' dist/ as they are. The install
// goes to the npm registry (or the local npm cache) for the third-party dependencies.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, freePort, tempDir, waitFor } from './lib/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLISHED = ['core', 'stores', 'verify', 'server', 'client'] as const;
/** Packed and installed beside the libraries: the `tessera` command. */
const COMMANDS = ['cli'] as const;
const INSTALL_BUDGET_MS = 100_000;

/** The version the repository itself installed, so the test project runs what the suite ran. */
const repoVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

// `npm test` hands its children npm_* variables that describe this repository (its local
// prefix, package, workspaces); a child npm inheriting them would act on the repository
// instead of the test project. The rest of npm's configuration (registry, cache, proxy,
// certificates) passes through.
const PROJECT_BOUND =
  /^(npm_package_|npm_lifecycle_|npm_config_(local_prefix|prefix|workspaces?|include_workspace_root|call)$|npm_command$|INIT_CWD$|TESSERA_)/i;
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !PROJECT_BOUND.test(name))),
  ...extra,
});

interface PackedFile {
  filename: string;
  files: { path: string }[];
}

let project: string;
let packed: Map<string, PackedFile>;
let server: ChildProcess | undefined;

beforeAll(async () => {
  for (const name of [...PUBLISHED, ...COMMANDS]) {
    if (!existsSync(join(ROOT, 'packages', name, 'dist', name === 'cli' ? 'bin.js' : 'index.js'))) {
      throw new Error(`packages/${name}/dist is missing: run \`npm run build\` first`);
    }
  }
  const dir = tempDir('tessera-packed-');
  const tarballs = join(dir, 'tarballs');
  project = join(dir, 'project');
  mkdirSync(tarballs);
  mkdirSync(project);

  const workspaces = [...PUBLISHED, ...COMMANDS].flatMap((name) => ['-w', `@tessera/${name}`]);
  const pack = await run('npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--json'], { cwd: ROOT, env: cleanEnv() });
  const list = JSON.parse(pack.stdout) as (PackedFile & { name: string })[];
  packed = new Map(list.map((p) => [p.name, p]));

  // The same `overrides` as the repository (they keep npm from installing dependencies that
  // refuse Node 20), so the project resolves what `npm ci` resolves here.
  const { overrides } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { overrides?: unknown };
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'packed-check', private: true, type: 'module', overrides }, null, 2)}\n`,
  );

  // --ignore-scripts: better-sqlite3's install script would compile SQLite from source (about a
  // minute on two cores). The repository already holds a build of the same version for this
  // Node, copied in below. --prefer-offline: every dependency is in the npm cache after the
  // repository's own install, so the registry is asked only for what is missing. The framework
  // peers of the adapters (and the types a TypeScript user installs) are pinned to the versions
  // the repository tests with.
  const extras = ['better-sqlite3', 'fastify', 'express', 'hono', '@types/node', '@types/express'].map((n) => `${n}@${repoVersion(n)}`);
  await run(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...list.map((p) => join(tarballs, p.filename)),
      ...extras,
    ],
    { cwd: project, env: cleanEnv(), timeout: INSTALL_BUDGET_MS },
  );
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(join(project, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
  copyFileSync(join(ROOT, addon), join(project, addon));
}, INSTALL_BUDGET_MS + 20_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    // npx runs the bin under a shell: the whole process group is ours to stop.
    process.kill(-server.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (server.exitCode === null && server.signalCode === null) process.kill(-server.pid, 'SIGKILL');
  }
  await cleanUp();
});

describe('the packed packages, installed in an empty project', () => {
  it('ship a README and a LICENSE, compiled code only (and the launchers of their commands), and the account page', () => {
    for (const name of PUBLISHED) {
      const files = packed
        .get(`@tessera/${name}`)
        ?.files.map((f) => f.path)
        .sort();
      expect(files, `@tessera/${name} was not packed`).toBeDefined();
      expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
      // Besides the build, only the launchers `bin` names: files in the repository that import the build.
      const { bin = {} } = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
        bin?: Record<string, string>;
      };
      const launchers = Object.values(bin).map((f) => f.replace(/^\.\//, ''));
      expect(files?.filter((f) => !f.startsWith('dist/') && ![...launchers, 'LICENSE', 'README.md', 'package.json'].includes(f))).toEqual(
        [],
      );
      expect(files?.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
    }
    const serverFiles = packed.get('@tessera/server')?.files.map((f) => f.path);
    expect(serverFiles).toEqual(
      expect.arrayContaining(['bin/tessera-server.js', 'dist/page/account.html', 'dist/page/account.css', 'dist/page/account.js']),
    );
  });

  it('`npx tessera-server` starts, answers /healthz and serves the account page', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = spawn('npx', ['--no', 'tessera-server'], {
      cwd: project,
      env: cleanEnv({ PORT: String(port), HOST: '127.0.0.1', TESSERA_DATABASE_URL: 'sqlite:./data/tessera.db' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (chunk: string) => {
      output = (output + chunk).slice(-20_000);
    };
    server.stdout?.setEncoding('utf8').on('data', keep);
    server.stderr?.setEncoding('utf8').on('data', keep);

    await waitFor(
      `tessera-server at ${base}`,
      async () => {
        if (server?.exitCode !== null) throw new Error(`tessera-server exited (${server?.exitCode}):\n${output}`);
        const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- tessera-server output ---\n${output}`);
    });
    expect(existsSync(join(project, 'data', 'tessera.db'))).toBe(true);

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('account.css');
    expect(html).toContain('account.js');
    // Byte for byte the page this build made (dist/page: the bundled script, the HTML and CSS
    // copied): the package ships the current page, and every file the server serves.
    const built = (file: string) => readFileSync(join(ROOT, 'packages', 'server', 'dist', 'page', file), 'utf8');
    expect(html).toBe(built('account.html'));
    for (const [file, type] of [
      ['account.css', /^text\/css/],
      ['account.js', /^text\/javascript/],
    ] as const) {
      const res = await fetch(`${base}/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(await res.text()).toBe(built(file));
    }
  });

  it('`npx tessera` runs installed: its version, a token decoded, a user added to a new SQLite database and listed', async () => {
    const cliFiles = packed.get('@tessera/cli')?.files.map((f) => f.path);
    expect(cliFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin/tessera.js', 'dist/bin.js']));
    expect(
      cliFiles?.filter((f) => !f.startsWith('dist/') && !['bin/tessera.js', 'LICENSE', 'README.md', 'package.json'].includes(f)),
    ).toEqual([]);
    const cwd = tempDir('tessera-packed-cli-');
    const env = cleanEnv({ TESSERA_DATABASE_URL: `sqlite:${join(cwd, 'tessera.db')}` });
    const tessera = (args: string[], input?: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn('npx', ['--no', '--', 'tessera', ...args], { cwd: project, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c;
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c;
        });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    const version = await tessera(['--version']);
    expect([version.code, version.stdout.trim()], version.stderr).toEqual([0, '0.1.0']);
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ sub: 'usr_1', exp: 2_000_000_000 })).toString('base64url');
    const decoded = await tessera(['token', 'decode', `${header}.${claims}.c2ln`, '--json']);
    expect(decoded.code, decoded.stderr).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ header: { alg: 'ES256' }, claims: { sub: 'usr_1' } });
    const added = await tessera(['users', 'add', 'packed@example.com', '--password-stdin'], 'correct horse battery staple 7\n');
    expect(added.code, added.stderr).toBe(0);
    const listed = await tessera(['users', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ email: 'packed@example.com' }]);
  });

  it('@tessera/verify and each adapter subpath type-check under strict and run', async () => {
    copyFileSync(join(ROOT, 'e2e', 'packed', 'consumer.ts'), join(project, 'consumer.ts'));
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // The shipped declarations are checked too, not only the consumer's use of them.
        skipLibCheck: false,
        types: ['node'],
        rootDir: '.',
        outDir: 'out',
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', project], { cwd: project, env: cleanEnv() }).catch((err: Error & { stdout?: string }) => {
      throw new Error(`tsc failed in the packed project:\n${err.stdout ?? err.message}`);
    });
    const consumer = await run(process.execPath, [join(project, 'out', 'consumer.js')], { cwd: project, env: cleanEnv(), timeout: 20_000 });
    expect(consumer.stdout).toContain('all verified');
  });
});
