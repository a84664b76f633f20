// A resource service as an outside project writes it against the published packages: every
// entry point of @tessera/verify imported by its public name. e2e/packed.test.ts copies this
// file into a project that installed the packed tarballs, type-checks it there under `strict`
// (NodeNext resolution, so the `exports` map and the shipped .d.ts files are what is checked),
// then runs the emitted JavaScript. It exits non-zero, with the failed assertion, when any
// adapter or the verifier misbehaves.
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIssuer, generateSigningKey, type VerificationKey } from '@tessera/core';
import { createVerifier } from '@tessera/verify';
import { tesseraAuth as expressAuth } from '@tessera/verify/express';
import { tesseraAuth as fastifyAuth } from '@tessera/verify/fastify';
import { tesseraAuth as honoAuth, type TesseraVariables } from '@tessera/verify/hono';
import { authenticate } from '@tessera/verify/node';
import { type Refusal, tokenRefusal } from '@tessera/verify/refusals';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';

const ISSUER = 'https://auth.example';
const AUDIENCE = 'orders';

const signingKey = await generateSigningKey('ES256');
// The verifier gets the public half only, as a service would from the issuer's JWKS.
const publicKey: VerificationKey = { kid: signingKey.kid, alg: signingKey.alg, key: signingKey.key };
const { token } = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey }).issue({
  sub: 'usr_1',
  sid: 'sid_1',
  scope: 'orders:read',
});
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [publicKey] });
const forged = `${token.slice(0, -4)}AAAA`;

// The verifier alone.
const claims = await verifier.verify(token);
assert.equal(claims.sub, 'usr_1');
assert.equal(claims.sid, 'sid_1');
const refusal: Refusal = await verifier.verify(forged).then(
  () => assert.fail('a forged signature was accepted'),
  (err: unknown) => tokenRefusal(err),
);
assert.equal(refusal.status, 401);
assert.equal(refusal.body.error, 'invalid_token');

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** GET `url` with `token` (when given) as Bearer: the status and the `sub` the service answered with. */
async function probe(url: string, t?: string): Promise<{ status: number; sub: unknown }> {
  const res = await fetch(url, { headers: t === undefined ? {} : bearer(t) });
  const body = (await res.json()) as { sub?: unknown };
  return { status: res.status, sub: body.sub };
}

// Fastify.
const fastify = Fastify();
await fastify.register(fastifyAuth, { verifier });
fastify.get('/me', { preHandler: fastify.authenticate }, async (request) => ({ sub: request.claims?.sub }));
const fromFastify = await fastify.inject({ method: 'GET', url: '/me', headers: bearer(token) });
assert.equal(fromFastify.statusCode, 200);
assert.equal(fromFastify.json<{ sub: string }>().sub, 'usr_1');
assert.equal((await fastify.inject({ method: 'GET', url: '/me', headers: bearer(forged) })).statusCode, 401);
await fastify.close();

// Hono.
const hono = new Hono<{ Variables: TesseraVariables }>();
hono.use('/me', honoAuth({ verifier }));
hono.get('/me', (c) => c.json({ sub: c.get('claims').sub }));
const fromHono = await hono.request('/me', { headers: bearer(token) });
assert.equal(fromHono.status, 200);
assert.deepEqual(await fromHono.json(), { sub: 'usr_1' });
assert.equal((await hono.request('/me')).status, 401);

// Express.
const app = express();
app.get('/me', expressAuth({ verifier }), (req, res) => {
  res.json({ sub: req.claims?.sub });
});
const expressServer = createServer(app);
const expressBase = await listen(expressServer);
assert.deepEqual(await probe(`${expressBase}/me`, token), { status: 200, sub: 'usr_1' });
assert.equal((await probe(`${expressBase}/me`, forged)).status, 401);
await close(expressServer);

// node:http.
const plain = createServer(async (req, res) => {
  const verified = await authenticate(req, res, verifier);
  if (!verified) return;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ sub: verified.sub }));
});
const plainBase = await listen(plain);
assert.deepEqual(await probe(`${plainBase}/me`, token), { status: 200, sub: 'usr_1' });
assert.equal((await probe(`${plainBase}/me`)).status, 401);
await close(plain);

verifier.close();
console.log('consumer: verifier and the fastify, hono, express and node adapters all verified');
