// HTTP benchmark of verification in a resource service: what a Tessera-protected route costs
// next to the same route with no auth, with a plain fast-jwt verifier, and with a cookie
// session looked up in SQLite or Redis; and what the Express and Hono adapters add over their
// own no-auth baselines.
//
// Two processes, so the load generator and the servers do not share an event loop:
//   - this process (the driver) signs the tokens and runs autocannon;
//   - a child (`bench/verify.ts --serve`) runs every server, each on its own 127.0.0.1 port:
//     a stand-in issuer (JWKS, an empty revocation feed over SSE, the catch-up endpoint), the
//     example resource service itself (`buildService` from examples/resource-service: Fastify,
//     remote JWKS, SSE revocation feed, the default verified-token cache), the same Fastify
//     route behind fast-jwt (cache off), behind a cookie session in SQLite (@tessera/stores
//     `sessions.get`) and in Redis (one GET), and Express and Hono apps with and without
//     `tesseraAuth`.
//
// Rows (same connections, warm-up and duration each; interleaved, ROUNDS times, the order
// reversed every other round; each row reports the median of its rounds and ratios paired round
// by round, and every round is kept in the JSON):
//   Fastify  no auth (GET /healthz)                   the smallest-possible reference, every row's "vs baseline"
//            no auth, same route and body, no token    the no-auth baseline of the cache-hit target: /whoami
//                                                      answering the same claims, with nothing to verify
//            Tessera, repeated token (cache hit)       target ≥ 85% of that baseline's req/s
//            Tessera, fresh token per request (miss)   target within 5% of fast-jwt (≥ 95% of its req/s)
//            fast-jwt (cache off), fresh token per request
//            cookie session, SQLite / Redis
//   Express  no auth; tesseraAuth (repeated token)
//   Hono     no auth; tesseraAuth (repeated token)
// Every row sends its requests through the same autocannon `setupRequest` hook, cycling
// through its own list of headers (one entry for a repeated token), so the client's cost is
// the same in every row. "Fresh" tokens are TOKENS distinct tokens signed here with the
// issuer's key, handed out from one cursor that runs on across warm-ups, rounds and rows:
// the service's cache holds 10 000, so no token comes round again before it was evicted, and
// every such request is a full verification.
//
// Before the first round, each Tessera service gets PREFILL distinct tokens, so every row
// meets a full verified-token cache (a busy service's steady state) whatever the row order.
// Besides req/s and latency, each row reports the server process's CPU time per answer
// (process.cpuUsage around the measured run, least of the rounds): on a shared machine it
// moves much less than req/s, so it is the figure to compare when req/s is noisy.
//
// Run: npm run bench:verify  (writes bench/results/verify.json)
// Knobs: BENCH_CONNECTIONS (10), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_ROUNDS (3), BENCH_TOKENS (200000; at least 52 500),
// BENCH_ROWS (words picking rows, e.g. `hit,Hono`; their baselines always run), BENCH_PIPELINING (1; more makes the
// server, not autocannon, the bottleneck, at the cost of queueing in the latencies), BENCH_PIN (1; 0 leaves both processes unpinned).
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createHash, createPublicKey, type JsonWebKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve as serveHono } from '@hono/node-server';
import { createIssuer, exportPublicJwk, generateSigningKey } from '@tessera/core';
import { openStores } from '@tessera/stores';
import { createVerifier } from '@tessera/verify';
import { tesseraAuth as expressAuth } from '@tessera/verify/express';
import { tesseraAuth as honoAuth, type TesseraVariables } from '@tessera/verify/hono';
import autocannon from 'autocannon';
import express from 'express';
import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { buildService } from '../examples/resource-service/src/service.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 200_000);
const AUDIENCE = 'bench-api';
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1);
const SESSIONS = 1_000;
/** Distinct tokens sent to each Tessera service before measuring: more than its cache holds (10 000 by default). */
const PREFILL = 10_500;
// The prefills take 3 × PREFILL fresh tokens; with fewer than this, a "fresh" token could come round while still cached.
if (TOKENS < 5 * PREFILL) throw new Error(`BENCH_TOKENS must be at least ${5 * PREFILL}, so a fresh token never meets the cache`);
const SESSION_COOKIE = 'sid';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** What the server child tells the driver once everything listens. */
interface Ready {
  type: 'ready';
  issuer: string;
  urls: Record<'fastify' | 'control' | 'plain' | 'fastJwt' | 'sqlite' | 'redis' | 'express' | 'hono', string | null>;
  cookies: { sqlite: string[]; redis: string[] };
  redisSkipped: string | null;
}

if (process.argv.includes('--serve')) await serve();
else await drive();

// ================================================================ the servers (child process)

async function serve(): Promise<void> {
  const jwk = JSON.parse(process.env.BENCH_JWK as string) as Record<string, unknown>;
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const listen = (server: Server) =>
    new Promise<string>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
    );

  // --- a stand-in issuer: the JWKS and an empty revocation feed, as the auth server serves them.
  const streams = new Set<ServerResponse>();
  const issuerServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
      return res.end(JSON.stringify({ keys: [jwk] }));
    }
    if (path === '/v1/revocations') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ events: [], cursor: '0' }));
    }
    if (path === '/v1/revocations/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      res.write(': connected\n\n');
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  const issuer = await listen(issuerServer);
  closers.push(() => {
    for (const s of streams) s.end();
    return new Promise((r) => issuerServer.close(r));
  });
  const tesseraVerifier = () =>
    createVerifier({ issuer, audience: AUDIENCE, jwksUri: `${issuer}/.well-known/jwks.json`, revocations: true });

  // --- the example resource service, as it ships (Fastify adapter, remote JWKS, SSE feed, default cache).
  const { app: service } = await buildService({ issuer, audience: AUDIENCE });
  const fastify = await service.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => service.close());

  // --- the same route behind other authentication, on the same kind of Fastify app.
  type Claims = Record<string, unknown>;
  const unauthorized = { error: 'invalid_token', error_description: 'the access token is invalid' };
  async function fastifyWith(authenticate: (headers: IncomingMessage['headers']) => Promise<Claims | null>): Promise<string> {
    const app = Fastify({ logger: false });
    app.decorateRequest('claims', null);
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get(
      '/whoami',
      {
        preHandler: async (request, reply) => {
          const claims = await authenticate(request.headers);
          if (claims === null) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send(unauthorized);
          request.claims = claims as typeof request.claims;
        },
      },
      async (request) => request.claims,
    );
    closers.push(() => app.close());
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  const bearer = (headers: IncomingMessage['headers']) => {
    const h = headers.authorization;
    return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
  };
  const fastJwt = createFastJwtVerifier({
    key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string,
    algorithms: ['ES256'],
    allowedIss: issuer,
    allowedAud: AUDIENCE,
    checkTyp: 'at+jwt',
    requiredClaims: ['exp', 'sub'],
    clockTolerance: 30_000,
    cache: false,
  });
  // No authentication, but the same route, request headers and response body as the verified rows:
  // the claims are decoded without any check. Isolates the cost of verifying from that of a
  // bigger request and response.
  const plainUrl = await fastifyWith(async (headers) => {
    const token = bearer(headers);
    if (token === undefined) return null;
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Claims;
  });
  // The no-auth baseline of the cache-hit target: the same route on the same kind of app, no token
  // sent, answering the same claims as the repeated token's (sent over by the driver). Against it
  // the hit row's difference is exactly what JWT authentication adds to this route: carrying the
  // token, reading it, verifying it. GET /healthz stays as the smallest-possible reference.
  let controlBody: Claims = {};
  const controlApp = Fastify({ logger: false });
  controlApp.get('/healthz', async () => ({ status: 'ok' }));
  controlApp.get('/whoami', async () => controlBody);
  closers.push(() => controlApp.close());
  const controlUrl = await controlApp.listen({ port: 0, host: '127.0.0.1' });
  const fastJwtUrl = await fastifyWith(async (headers) => {
    const token = bearer(headers);
    if (token === undefined) return null;
    try {
      return fastJwt(token) as Claims;
    } catch {
      return null;
    }
  });

  // Cookie sessions the way the auth server keeps them: `id.secret`, only SHA-256(secret) stored.
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const sessionCookie = (headers: IncomingMessage['headers']) => {
    const raw = headers.cookie;
    if (!raw) return null;
    for (const part of raw.split(';')) {
      const eq = part.indexOf('=');
      if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
      const value = part.slice(eq + 1).trim();
      const dot = value.indexOf('.');
      return dot > 0 ? { id: value.slice(0, dot), secret: value.slice(dot + 1) } : null;
    }
    return null;
  };
  const minted = () => {
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(24).toString('base64url');
    return { id, secret, cookie: `${SESSION_COOKIE}=${id}.${secret}` };
  };

  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-verify-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const stores = await openStores(`sqlite:${join(dir, 'sessions.db')}`);
  closers.push(() => stores.close());
  const now = Date.now();
  const userId = 'bench-user';
  await stores.users.create({
    id: userId,
    email: 'bench@example.test',
    name: null,
    passwordHash: 'x',
    roles: [],
    createdAt: now,
    updatedAt: now,
  });
  const sqliteCookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = minted();
    await stores.sessions.create({
      id: s.id,
      userId,
      kind: 'cookie',
      secretHash: sha256(s.secret),
      csrfToken: null,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 86_400_000,
      absoluteExpiresAt: now + 7 * 86_400_000,
      userAgent: null,
      ip: null,
      revokedAt: null,
    });
    sqliteCookies.push(s.cookie);
  }
  const sqliteUrl = await fastifyWith(async (headers) => {
    const c = sessionCookie(headers);
    if (c === null) return null;
    const session = await stores.sessions.get(c.id);
    const t = Date.now();
    if (!session || session.revokedAt !== null || session.secretHash === null || !sameHash(session.secretHash, sha256(c.secret)))
      return null;
    if (t >= session.idleExpiresAt || t >= session.absoluteExpiresAt) return null;
    return { sub: session.userId, sid: session.id };
  });

  let redisUrl: string | null = null;
  let redisSkipped: string | null = null;
  const redisCookies: string[] = [];
  try {
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 1_000, lazyConnect: true });
    redis.on('error', () => undefined);
    await redis.connect();
    const prefix = `tessera:bench-verify:${process.pid}:`;
    const pipeline = redis.pipeline();
    for (let i = 0; i < SESSIONS; i++) {
      const s = minted();
      const value = { userId, secretHash: sha256(s.secret), idleExpiresAt: now + 86_400_000, absoluteExpiresAt: now + 7 * 86_400_000 };
      pipeline.set(`${prefix}${s.id}`, JSON.stringify(value), 'EX', 3_600);
      redisCookies.push(s.cookie);
    }
    await pipeline.exec();
    closers.push(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    redisUrl = await fastifyWith(async (headers) => {
      const c = sessionCookie(headers);
      if (c === null) return null;
      const raw = await redis.get(`${prefix}${c.id}`);
      if (raw === null) return null;
      const session = JSON.parse(raw) as { userId: string; secretHash: string; idleExpiresAt: number; absoluteExpiresAt: number };
      const t = Date.now();
      if (!sameHash(session.secretHash, sha256(c.secret)) || t >= session.idleExpiresAt || t >= session.absoluteExpiresAt) return null;
      return { sub: session.userId, sid: c.id };
    });
  } catch (err) {
    redisSkipped = `Redis at ${REDIS_URL} is not reachable (${err instanceof Error ? err.message : String(err)})`;
  }

  // --- Express and Hono, each with a no-auth route and a tesseraAuth route, each with its own verifier (like its own service).
  const expressVerifier = tesseraVerifier();
  const honoVerifier = tesseraVerifier();
  await Promise.all([expressVerifier.ready(), honoVerifier.ready()]);
  closers.push(
    () => expressVerifier.close(),
    () => honoVerifier.close(),
  );

  const expressApp = express();
  expressApp.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.get('/whoami', expressAuth({ verifier: expressVerifier }), (req, res) => {
    res.json((req as { claims?: unknown }).claims);
  });
  const expressServer = createServer(expressApp);
  const expressUrl = await listen(expressServer);
  closers.push(() => new Promise((r) => expressServer.close(r)));

  const hono = new Hono<{ Variables: TesseraVariables }>();
  hono.get('/healthz', (c) => c.json({ status: 'ok' }));
  hono.get('/whoami', honoAuth({ verifier: honoVerifier }), (c) => c.json(c.get('claims')));
  const honoUrl = await new Promise<string>((resolve) => {
    const server = serveHono({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
    closers.push(() => new Promise((r) => server.close(r)));
  });

  const ready: Ready = {
    type: 'ready',
    issuer,
    urls: {
      fastify,
      control: controlUrl,
      plain: plainUrl,
      fastJwt: fastJwtUrl,
      sqlite: sqliteUrl,
      redis: redisUrl,
      express: expressUrl,
      hono: honoUrl,
    },
    cookies: { sqlite: sqliteCookies, redis: redisCookies },
    redisSkipped,
  };
  process.send?.(ready);
  process.on('message', async (message: { type?: string }) => {
    // CPU time of this process (every server), read around each measured run.
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'cpu', us: user + system });
      return;
    }
    if (message?.type === 'control-body') {
      controlBody = (message as { claims: Claims }).claims;
      process.send?.({ type: 'control-body-set' });
      return;
    }
    if (message?.type !== 'stop') return;
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

// ================================================================ the driver

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  /** 2xx answers in the run. */
  count: number;
  /** Server CPU time (user + system, every server in the child) per answer, µs; less sensitive to other load on the machine than req/s. */
  cpuUs: number;
}

interface Row {
  name: string;
  url: string | null;
  path: string;
  /** Cycled through, one per request. */
  headers: Record<string, string>[];
  baseline: string;
  /** Met when this row's req/s over `versus`'s, paired by round, is at least `min`. */
  target?: { describe: string; versus: string; min: number };
  skipped?: string;
}

/**
 * On Linux with two or more cores, pins the server process to the last core and this process
 * (autocannon) to the others, every thread of each (`taskset -a`): the two no longer trade cores
 * with each other mid-run, which is most of the round-to-round spread on a small machine.
 * BENCH_PIN=0 turns it off; without taskset the bench runs unpinned and says so.
 */
function pinApart(childPid: number | undefined): string {
  if (process.env.BENCH_PIN === '0') return 'no (BENCH_PIN=0)';
  const n = availableParallelism();
  if (process.platform !== 'linux' || n < 2 || childPid === undefined) return 'no (needs Linux and 2+ cores)';
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(n - 1), String(childPid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', n === 2 ? '0' : `0-${n - 2}`, String(process.pid)], { stdio: 'ignore' });
    return `server on core ${n - 1}, load generator on ${n === 2 ? 'core 0' : `cores 0-${n - 2}`}`;
  } catch {
    return 'no (taskset failed or is missing)';
  }
}

async function drive(): Promise<void> {
  const key = await generateSigningKey('ES256');
  const jwk = await exportPublicJwk(key);
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_JWK: JSON.stringify(jwk) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pinned = pinApart(child.pid);
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before it was ready`)));
  });
  const serverCpu = () =>
    new Promise<number>((resolve) => {
      const onMessage = (m: { type?: string; us?: number }) => {
        if (m?.type !== 'cpu') return;
        child.off('message', onMessage);
        resolve(m.us as number);
      };
      child.on('message', onMessage);
      child.send({ type: 'cpu' });
    });
  const stopChild = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  process.on('SIGINT', () => {
    child.kill('SIGKILL');
    process.exit(130);
  });

  try {
    // --- tokens, signed here with the issuer's key
    const issuer = createIssuer({ issuer: ready.issuer, audience: AUDIENCE, signingKey: key, ttl: 3_600 });
    const claims = { client_id: 'bench', scope: 'orders:read' };
    const repeated = issuer.issue({ sub: 'user-0', sid: 'session-0', ...claims }).token;
    const t0 = performance.now();
    const fresh: Record<string, string>[] = new Array(TOKENS);
    for (let i = 0; i < TOKENS; i++)
      fresh[i] = { authorization: `Bearer ${issuer.issue({ sub: `user-${i % 1000}`, sid: `session-${i}`, ...claims }).token}` };
    process.stderr.write(`signed ${TOKENS} distinct tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const one = [{ authorization: `Bearer ${repeated}` }];
    await new Promise<void>((resolve) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== 'control-body-set') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      const payload = JSON.parse(Buffer.from(repeated.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
      child.send({ type: 'control-body', claims: payload });
    });
    const cookies = (list: string[]) => list.map((cookie) => ({ cookie }));

    const FASTIFY = 'Fastify: no auth (GET /healthz)';
    const CONTROL = 'Fastify: no auth, same route and body, no token';
    const PLAIN = 'Fastify: no auth, same route and body (claims decoded unchecked)';
    const FAST_JWT = 'Fastify: fast-jwt verifier, cache off, fresh token';
    const MISS = 'Fastify: Tessera, fresh token (cache miss)';
    const HIT = 'Fastify: Tessera, repeated token (cache hit)';
    const rows: Row[] = [
      { name: FASTIFY, url: ready.urls.fastify, path: '/healthz', headers: [{}], baseline: FASTIFY },
      { name: CONTROL, url: ready.urls.control, path: '/whoami', headers: [{}], baseline: FASTIFY },
      { name: PLAIN, url: ready.urls.plain, path: '/whoami', headers: one, baseline: FASTIFY },
      {
        name: HIT,
        url: ready.urls.fastify,
        path: '/whoami',
        headers: one,
        baseline: FASTIFY,
        target: { describe: '≥ 85% of the same route without auth', versus: CONTROL, min: 0.85 },
      },
      {
        name: MISS,
        url: ready.urls.fastify,
        path: '/whoami',
        headers: fresh,
        baseline: FASTIFY,
        target: { describe: '≥ 95% of fast-jwt', versus: FAST_JWT, min: 0.95 },
      },
      { name: FAST_JWT, url: ready.urls.fastJwt, path: '/whoami', headers: fresh, baseline: FASTIFY },
      {
        name: 'Fastify: cookie session, SQLite',
        url: ready.urls.sqlite,
        path: '/whoami',
        headers: cookies(ready.cookies.sqlite),
        baseline: FASTIFY,
      },
      {
        name: 'Fastify: cookie session, Redis',
        url: ready.urls.redis,
        path: '/whoami',
        headers: cookies(ready.cookies.redis),
        baseline: FASTIFY,
        ...(ready.redisSkipped ? { skipped: ready.redisSkipped } : {}),
      },
      { name: 'Express: no auth', url: ready.urls.express, path: '/healthz', headers: [{}], baseline: 'Express: no auth' },
      { name: 'Express: tesseraAuth (cache hit)', url: ready.urls.express, path: '/whoami', headers: one, baseline: 'Express: no auth' },
      { name: 'Hono: no auth', url: ready.urls.hono, path: '/healthz', headers: [{}], baseline: 'Hono: no auth' },
      { name: 'Hono: tesseraAuth (cache hit)', url: ready.urls.hono, path: '/whoami', headers: one, baseline: 'Hono: no auth' },
    ];
    // BENCH_ROWS=hit,Hono runs only the rows whose name contains one of the words, plus the baselines
    // (and targets' comparison rows) they are measured against.
    const only = (process.env.BENCH_ROWS ?? '').split(',').filter(Boolean);
    const wanted = new Set(rows.filter((r) => only.length === 0 || only.some((w) => r.name.includes(w))).map((r) => r.name));
    for (const r of rows.filter((x) => wanted.has(x.name))) {
      wanted.add(r.baseline);
      if (r.target) wanted.add(r.target.versus);
    }
    const active = rows.filter((r) => !r.skipped && r.url !== null && wanted.has(r.name));

    // --- every row answers what it should before it is timed
    for (const row of active) {
      const res = await fetch(`${row.url}${row.path}`, { headers: row.headers[0] });
      const body = (await res.json()) as { sub?: string; status?: string };
      if (res.status !== 200 || !(row.path === '/healthz' ? body.status === 'ok' : typeof body.sub === 'string')) {
        throw new Error(`${row.name}: answered ${res.status} ${JSON.stringify(body)}`);
      }
    }

    // --- measuring
    // One cursor per header list, kept across runs: a warm-up never hands the measured run tokens it just cached.
    const cursors = new Map<Record<string, string>[], number>();
    function cannon(row: Row, run: { seconds: number } | { amount: number }): Promise<Measure> {
      const latency = createHistogram();
      const list = row.headers;
      let next = cursors.get(list) ?? 0;
      return new Promise((resolve, reject) => {
        const started = performance.now();
        let ok = 0;
        const instance = autocannon(
          {
            url: row.url as string,
            connections: CONNECTIONS,
            pipelining: PIPELINING,
            ...('seconds' in run ? { duration: run.seconds } : { amount: run.amount }),
            requests: [
              {
                method: 'GET',
                path: row.path,
                setupRequest: (req) => {
                  Object.assign(req.headers ?? {}, list[next++ % list.length]);
                  return req;
                },
              },
            ],
          },
          (err, result) => {
            cursors.set(list, next % list.length);
            if (err) return reject(err);
            if (result.non2xx > 0 || result.errors > 0)
              return reject(new Error(`${row.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`));
            const elapsed = (performance.now() - started) / 1000;
            resolve({
              rps: ok / elapsed,
              p50: latency.percentile(50) / 1000,
              p99: latency.percentile(99) / 1000,
              count: ok,
              cpuUs: Number.NaN,
            });
          },
        );
        // The typings omit this event's first argument (the client): listen through the plain emitter type.
        (instance as unknown as EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
          if (status >= 200 && status < 300) {
            ok++;
            latency.record(Math.max(1, Math.round(ms * 1000)));
          }
        });
      });
    }

    // A busy service's steady state: every Tessera verifier's cache full of other tokens, whatever the row order.
    for (const url of new Set([ready.urls.fastify, ready.urls.express, ready.urls.hono])) {
      const t = performance.now();
      await cannon({ name: `prefill ${url}`, url, path: '/whoami', headers: fresh, baseline: '' }, { amount: PREFILL });
      process.stderr.write(
        `prefilled the verified-token cache at ${url} with ${PREFILL} tokens in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
      );
    }

    const rounds = new Map<string, Measure[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? active : [...active].reverse();
      for (const row of order) {
        if (WARMUP_S > 0) await cannon(row, { seconds: WARMUP_S });
        const cpu0 = await serverCpu();
        const m = await cannon(row, { seconds: DURATION_S });
        m.cpuUs = (await serverCpu()) - cpu0;
        m.cpuUs /= m.count;
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${row.name}: ${m.rps.toFixed(0)} req/s, server ${m.cpuUs.toFixed(1)} µs CPU/req\n`,
        );
        rounds.set(row.name, [...(rounds.get(row.name) ?? []), m]);
      }
    }
    // Each row's req/s and latencies: the median of its rounds. A ratio is paired: this row's req/s
    // over the other's in the same round (run a few seconds apart), then the median over the rounds,
    // so a slow phase of this shared machine moves both sides together. Server CPU per request is
    // the least of the rounds (the least disturbed by other load).
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    };
    const best = new Map<string, Measure>();
    const cpu = new Map<string, number>();
    for (const [name, ms] of rounds) {
      const field = (f: 'rps' | 'p50' | 'p99') => median(ms.map((m) => m[f]));
      best.set(name, { ...(ms[0] as Measure), rps: field('rps'), p50: field('p50'), p99: field('p99') });
      cpu.set(name, Math.min(...ms.map((m) => m.cpuUs)));
    }
    const pairedRatio = (name: string, versus: string) => {
      const a = rounds.get(name) as Measure[];
      const b = rounds.get(versus) as Measure[];
      return median(a.map((m, r) => m.rps / (b[r] as Measure).rps));
    };

    // --- report
    const report = rows
      .filter((row) => wanted.has(row.name))
      .map((row) => {
        const m = best.get(row.name);
        if (!m) return { row: row.name, skipped: row.skipped ?? 'no server' };
        return {
          row: row.name,
          rps: Math.round(m.rps),
          p50_ms: Number(m.p50.toFixed(3)),
          p99_ms: Number(m.p99.toFixed(3)),
          baseline: row.baseline,
          ratio: Number(pairedRatio(row.name, row.baseline).toFixed(3)),
          server_cpu_us_per_req: Number((cpu.get(row.name) as number).toFixed(1)),
          server_cpu_us_over_baseline: Number(((cpu.get(row.name) as number) - (cpu.get(row.baseline) as number)).toFixed(1)),
          target: row.target?.describe ?? null,
          target_ratio: row.target ? Number(pairedRatio(row.name, row.target.versus).toFixed(3)) : null,
          pass: row.target ? pairedRatio(row.name, row.target.versus) >= row.target.min : null,
          rounds: (rounds.get(row.name) ?? []).map((r) => ({ rps: Math.round(r.rps), cpu_us_per_req: Number(r.cpuUs.toFixed(1)) })),
        };
      });
    const cells = [
      ['row', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'CPU µs/req', '+µs', 'target', ''],
      ...report.map((r) =>
        'skipped' in r
          ? [r.row, '—', '—', '—', '—', '—', '—', `skipped: ${r.skipped}`, '']
          : [
              r.row,
              String(r.rps),
              r.p50_ms.toFixed(2),
              r.p99_ms.toFixed(2),
              `${(r.ratio * 100).toFixed(1)}%`,
              r.server_cpu_us_per_req.toFixed(1),
              r.baseline === r.row ? '' : r.server_cpu_us_over_baseline.toFixed(1),
              r.target ?? '—',
              r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
            ],
      ),
    ];
    const widths = (cells[0] as string[]).map((_, i) => Math.max(...cells.map((c) => (c[i] as string).length)));
    const line = (c: string[]) =>
      `| ${c.map((v, i) => (i === 0 || i === 7 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join(' | ')} |`;
    const fastJwt = best.get(FAST_JWT);
    const miss = best.get(MISS);
    console.log(
      `\nTessera verification in a resource service, Node ${process.version}, ${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
    );
    console.log(
      `${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per row, median of ${ROUNDS} interleaved rounds (ratios paired per round); servers in one child process, autocannon in this one; pinned: ${pinned};` +
        `\nTessera caches pre-filled with ${PREFILL} other tokens; CPU µs/req = the server process's CPU time per answer (least of the rounds), +µs = over the row's baseline\n`,
    );
    console.log(line(cells[0] as string[]));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const c of cells.slice(1)) console.log(line(c));
    if (fastJwt && miss) {
      const cpuRatio = (cpu.get(FAST_JWT) as number) / (cpu.get(MISS) as number);
      console.log(
        `\ncache miss vs fast-jwt: ${(pairedRatio(MISS, FAST_JWT) * 100).toFixed(1)}% of its req/s; by server CPU per request, ${(cpuRatio * 100).toFixed(1)}%`,
      );
    }
    const hit = best.get(HIT);
    if (hit && best.get(CONTROL) && best.get(FASTIFY)) {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      console.log(
        `cache hit vs the same route without auth: ${pct(pairedRatio(HIT, CONTROL))} of its req/s, by server CPU ${pct((cpu.get(CONTROL) as number) / (cpu.get(HIT) as number))}; ` +
          `vs GET /healthz: ${pct(pairedRatio(HIT, FASTIFY))} of its req/s, by server CPU ${pct((cpu.get(FASTIFY) as number) / (cpu.get(HIT) as number))}`,
      );
    }
    console.log(
      'targets: cache hit ≥ 85% of the no-auth baseline (the same route and answer, no token); cache miss within 5% of the fast-jwt verifier (≥ 95% of its req/s)',
    );

    // A partial run (BENCH_ROWS) prints its table but leaves the full results file alone.
    const out = fileURLToPath(new URL(only.length === 0 ? './results/verify.json' : './results/verify-partial.json', import.meta.url));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          measured: new Date().toISOString(),
          command: 'npm run bench:verify',
          node: process.version,
          cpus: `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
          connections: CONNECTIONS,
          warmup_s: WARMUP_S,
          duration_s: DURATION_S,
          rounds: ROUNDS,
          distinct_tokens: TOKENS,
          rows: report,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${out}`);
  } finally {
    await stopChild();
  }
}
