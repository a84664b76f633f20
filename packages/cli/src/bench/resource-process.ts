// The resource service of the bench: a plain node:http service protecting its routes with
// @tessera/verify, the way a microservice would, in a process of its own.
//
//   GET /healthz                   no auth: the baseline of every JWT row
//   GET /jwt/<alg>/cached          a verifier with the verified-token cache (the default)
//   GET /jwt/<alg>/uncached        the same without the cache: every request is a full verification
//   GET /rev/sse, GET /rev/redis   verifiers of the auth server's own tokens (remote JWKS) whose
//                                  revocation feed is SSE from the auth server, or Redis pub/sub
//   GET /feeds                     the feeds' state, so the bench can wait for them to connect
//
// The algorithm rows verify tokens the bench signs with keys it hands over here (HS256 needs the
// shared secret, which no JWKS carries); each of them also follows the SSE revocation feed, so
// the revocation check every verification ends with is part of what is measured.
import { createServer, type ServerResponse } from 'node:http';
import { importVerificationJwk } from '@tessera/core';
import { createVerifier, type ResourceVerifier, verifyRequestNow } from '@tessera/verify';
import { childMain } from './children.js';
import type { BenchAlg } from './types.js';

/** What the resource service is told to verify. */
export interface ResourceSpec {
  audience: string;
  /** The auth server the feeds follow and the `iss` every token carries. */
  issuer: string;
  /** The resource server's feed credentials (`TESSERA_RESOURCE_SERVERS` on the auth server). */
  credentials: { id: string; secret: string };
  /** One verification key (a public JWK, or the oct secret for HS256) per algorithm row. */
  keys: { alg: BenchAlg; jwk: Record<string, unknown> }[];
  /** The Redis feed, or null when Redis is not reachable. */
  redis: { url: string; channel: string } | null;
}

export interface ResourceReady {
  type: 'ready';
  base: string;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  // A Content-Length on every answer (never chunked): the bench's own client reads only that.
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

childMain<ResourceSpec, ResourceReady>(async (spec) => {
  const routes = new Map<string, ResourceVerifier>();
  const feeds = new Map<string, ResourceVerifier>();
  const revocations = { credentials: spec.credentials };
  for (const { alg, jwk } of spec.keys) {
    const key = await importVerificationJwk(jwk, { alg });
    for (const cached of [true, false]) {
      routes.set(
        `/jwt/${alg}/${cached ? 'cached' : 'uncached'}`,
        createVerifier({
          issuer: spec.issuer,
          audience: spec.audience,
          keys: [key],
          algorithms: [alg],
          cache: cached ? {} : false,
          revocations,
        }),
      );
    }
  }
  const jwksUri = `${spec.issuer}/.well-known/jwks.json`;
  feeds.set('/rev/sse', createVerifier({ issuer: spec.issuer, audience: spec.audience, jwksUri, revocations }));
  if (spec.redis) {
    feeds.set(
      '/rev/redis',
      createVerifier({
        issuer: spec.issuer,
        audience: spec.audience,
        jwksUri,
        revocations: { ...revocations, source: 'redis', redis: spec.redis.url, channel: spec.redis.channel },
      }),
    );
  }
  for (const [path, v] of feeds) routes.set(path, v);
  await Promise.all([...routes.values()].map((v) => v.ready()));

  const health = JSON.stringify({ status: 'ok' });
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path === '/healthz') return send(res, 200, health);
    if (path === '/feeds') {
      const state = Object.fromEntries([...feeds].map(([p, v]) => [p, v.feedStatus()?.connected ?? false]));
      return send(res, 200, JSON.stringify(state));
    }
    const verifier = routes.get(path);
    if (!verifier) return send(res, 404, JSON.stringify({ error: 'not_found', error_description: 'no such route' }));
    const answer = verifyRequestNow(verifier, req.headers);
    const finish = (result: Awaited<typeof answer>) => {
      if (result.ok) send(res, 200, JSON.stringify(result.claims));
      else send(res, result.refusal.status, JSON.stringify(result.refusal.body), result.refusal.headers);
    };
    if (answer instanceof Promise) answer.then(finish, () => send(res, 503, JSON.stringify({ error: 'unavailable' })));
    else finish(answer);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the resource service has no port');
  return {
    ready: { type: 'ready', base: `http://127.0.0.1:${address.port}` },
    close: async () => {
      for (const v of routes.values()) v.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
});
