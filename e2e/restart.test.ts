// The auth server as a real process, started the way `npm start` starts it: state survives a
// restart (users, cookie sessions, refresh families, signing keys), SIGTERM finishes in-flight
// requests before the database closes, and a bad configuration stops the process at start.
//
// Needs the build (`npm run build`): it runs packages/server/dist/bin.js.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './lib/processes.js';

const BIN = fileURLToPath(new URL('../packages/server/dist/bin.js', import.meta.url));
const PASSWORD = 'correct horse battery staple';
/** How long a SIGTERM may take to end the process. */
const STOP_BUDGET_MS = 5_000;
const START_BUDGET_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Server {
  child: ChildProcess;
  base: string;
  exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  dirs.push(dir);
  return dir;
}

/** `node packages/server/dist/bin.js` in `cwd`, with a clean environment (nothing inherited but PATH). */
function start(cwd: string, port: number, env: Record<string, string> = {}): Server {
  const child = spawn(process.execPath, [BIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', TESSERA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, base: `http://127.0.0.1:${port}`, exited, stdout: () => out, stderr: () => err };
}

/** Polls /healthz until it answers 200; fails early (with the child's output) if the process exits. */
async function waitHealthy(server: Server): Promise<void> {
  const deadline = Date.now() + START_BUDGET_MS;
  let exit: Exit | undefined;
  void server.exited.then((e) => {
    exit = e;
  });
  while (Date.now() < deadline) {
    if (exit) throw new Error(`server exited during start (${JSON.stringify(exit)}):\n${server.stderr()}${server.stdout()}`);
    try {
      const res = await fetch(`${server.base}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server not healthy after ${START_BUDGET_MS} ms:\n${server.stderr()}${server.stdout()}`);
}

/** Sends SIGTERM and waits for the exit; returns how long it took. */
async function stop(server: Server): Promise<Exit & { ms: number }> {
  const t0 = Date.now();
  server.child.kill('SIGTERM');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no exit ${STOP_BUDGET_MS} ms after SIGTERM:\n${server.stderr()}`)), STOP_BUDGET_MS).unref(),
  );
  const exit = await Promise.race([server.exited, timeout]);
  return { ...exit, ms: Date.now() - t0 };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

const register = (base: string, email: string) => call(base, '/v1/users', { body: { email, password: PASSWORD, name: 'E2E' } });
const passwordGrant = (base: string, email: string) =>
  call(base, '/v1/token', { body: { grant_type: 'password', username: email, password: PASSWORD } });
const refreshGrant = (base: string, refreshToken: string) =>
  call(base, '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } });
const me = (base: string, headers: Record<string, string>) => call(base, '/v1/me', { headers });

async function kids(base: string): Promise<string[]> {
  const { status, body } = await call(base, '/.well-known/jwks.json');
  expect(status).toBe(200);
  return (body.keys as { kid: string }[]).map((k) => k.kid).sort();
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

afterAll(async () => {
  // Whatever happened above, no server outlives the suite.
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map((c) => new Promise((r) => c.once('exit', r))));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the server process', () => {
  it('keeps users, cookie sessions, refresh families, signing keys and access tokens across a restart', async () => {
    const dir = tempDir();
    const port = await freePort();
    const first = start(dir, port);
    await waitHealthy(first);
    const base = first.base;

    const email = 'restart@example.test';
    const user = await register(base, email);
    expect(user.status).toBe(201);

    const tokens = await passwordGrant(base, email);
    expect(tokens.status).toBe(200);
    const accessToken = tokens.body.access_token as string;
    const refreshToken = tokens.body.refresh_token as string;

    const login = await call(base, '/v1/sessions', { body: { email, password: PASSWORD } });
    expect(login.status).toBe(201);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0] as string)
      .find((c) => c.startsWith('tessera_session='));
    expect(cookie).toBeDefined();
    const cookieHeader = { cookie: cookie as string };
    const before = await me(base, cookieHeader);
    expect(before.body).toMatchObject({ id: user.body.id, auth: 'session' });
    const kidsBefore = await kids(base);
    expect(kidsBefore.length).toBeGreaterThan(0);

    const stopped = await stop(first);
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(STOP_BUDGET_MS);

    // The default TESSERA_DATABASE_URL is sqlite:./data/tessera.db; the dev KEK sits beside it, owner-only.
    expect(existsSync(join(dir, 'data', 'tessera.db'))).toBe(true);
    expect(statSync(join(dir, 'data', 'kek')).mode & 0o777).toBe(0o600);

    const second = start(dir, port);
    await waitHealthy(second);

    expect((await passwordGrant(base, email)).status).toBe(200);

    const bySession = await me(base, cookieHeader);
    expect(bySession.status).toBe(200);
    expect(bySession.body).toMatchObject({ id: user.body.id, email, auth: 'session', sid: before.body.sid });

    const refreshed = await refreshGrant(base, refreshToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(refreshToken);
    expect((await me(base, { authorization: `Bearer ${refreshed.body.access_token}` })).body).toMatchObject({
      id: user.body.id,
      auth: 'jwt',
    });

    // Signed before the restart, verified after it: the keys came back from the store through the persisted KEK.
    const byToken = await me(base, { authorization: `Bearer ${accessToken}` });
    expect(byToken.status).toBe(200);
    expect(byToken.body).toMatchObject({ id: user.body.id, auth: 'jwt' });

    expect(await kids(base)).toEqual(kidsBefore);

    expect(await stop(second)).toMatchObject({ code: 0, signal: null });
  });

  it('finishes in-flight requests on SIGTERM before closing the database (no write lost)', async () => {
    const dir = tempDir();
    const port = await freePort();
    // Info level: Fastify logs "incoming request" as it starts handling one, so the signal can
    // be sent once every request is in flight on the server, not while it may still sit in a
    // socket buffer (where a closing server would refuse it, which is not what this pins).
    const first = start(dir, port, { TESSERA_LOG_LEVEL: 'info' });
    await waitHealthy(first);
    const base = first.base;
    const loginEmail = 'inflight-login@example.test';
    expect((await register(base, loginEmail)).status).toBe(201);

    // Registrations (an argon2 hash, ~30 ms, then the insert) and logins (argon2 verify, then
    // session and refresh-token inserts), all in parallel, each tagged to be found in the log.
    const signups = ['a', 'b', 'c', 'd'].map((x) => `inflight-${x}@example.test`);
    const pending = [
      ...signups.map((email, i) => call(base, `/v1/users?inflight=u${i}`, { body: { email, password: PASSWORD } })),
      ...[0, 1, 2, 3].map((i) =>
        call(base, `/v1/token?inflight=t${i}`, { body: { grant_type: 'password', username: loginEmail, password: PASSWORD } }),
      ),
    ];
    const settled = Promise.allSettled(pending);

    const arrived = () => (first.stdout().match(/"url":"\/v1\/(users|token)\?inflight=/g) ?? []).length;
    const deadline = Date.now() + 10_000;
    while (arrived() < pending.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(arrived()).toBe(pending.length);
    const stopping = stop(first);

    const results = await settled;
    const answers = results.map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)));
    expect(answers).toEqual([201, 201, 201, 201, 200, 200, 200, 200]);
    const stopped = await stopping;
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(STOP_BUDGET_MS);
    // The signal really came while requests were in flight: the log shows the shutdown starting
    // before some of them completed (usually all; at least one, so a slow start cannot flake this).
    const log = first
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; reqId?: string; req?: { url?: string } });
    const shutdownAt = log.findIndex((entry) => entry.msg?.startsWith('shutting down'));
    expect(shutdownAt).toBeGreaterThan(-1);
    const inflight = new Set(log.filter((e) => e.req?.url?.includes('inflight=')).map((e) => e.reqId));
    const completedAfter = log.slice(shutdownAt).filter((e) => e.msg === 'request completed' && inflight.has(e.reqId));
    expect(completedAfter.length).toBeGreaterThan(0);

    const second = start(dir, port);
    await waitHealthy(second);
    for (const email of signups) {
      expect((await register(base, email)).body.error).toBe('email_taken');
      expect((await passwordGrant(base, email)).status).toBe(200);
    }
    // The token logins' sessions and refresh tokens were written too.
    for (const r of results.slice(signups.length)) {
      const refresh = (r as PromiseFulfilledResult<Answer>).value.body.refresh_token as string;
      expect((await refreshGrant(base, refresh)).status).toBe(200);
    }
    expect(await stop(second)).toMatchObject({ code: 0, signal: null });
  });

  it('refuses a bad configuration at start, naming the variable', async () => {
    const dir = tempDir();
    const server = start(dir, await freePort(), { TESSERA_SIGNING_ALG: 'none' });
    const exit = await server.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(server.stderr()).toContain('TESSERA_SIGNING_ALG');
  });
});
