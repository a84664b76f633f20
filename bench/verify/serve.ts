// The server side of bench:verify, run in a child process (`bench/verify.ts --serve`) so the load
// generator never shares its event loop: a stand-in issuer, the example resource service as it
// ships, the same route behind fast-jwt or no auth, the cookie-session rows and the Express and
// Hono adapters, each on its own 127.0.0.1 port. It reports its URLs once everything listens, then
// answers the driver's CPU readings until told to stop.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createVerifier } from '@tessera/verify';
import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import { buildService } from '../../examples/resource-service/src/service.js';
import { adapterServers } from './adapters.js';
import { AUDIENCE } from './knobs.js';
import type { Claims, Closers, Ready } from './protocol.js';
import { fastifyWith, listen } from './route.js';
import { sessionServers } from './sessions.js';

/** Starts every server (the issuer's public key comes in BENCH_JWK) and serves until the driver says stop. */
export async function serve(): Promise<void> {
  const jwk = JSON.parse(process.env.BENCH_JWK as string) as Record<string, unknown>;
  const closers: Closers = [];

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
  const plainUrl = await fastifyWith(closers, async (headers) => {
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
  const fastJwtUrl = await fastifyWith(closers, async (headers) => {
    const token = bearer(headers);
    if (token === undefined) return null;
    try {
      return fastJwt(token) as Claims;
    } catch {
      return null;
    }
  });

  // --- cookie sessions looked up per request, in SQLite and in Redis.
  const { sqliteUrl, sqliteCookies, redisUrl, redisCookies, redisSkipped } = await sessionServers(closers);

  // --- Express and Hono, each with a no-auth route and a tesseraAuth route, each with its own verifier (like its own service).
  const { expressUrl, honoUrl } = await adapterServers(closers, tesseraVerifier);

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
