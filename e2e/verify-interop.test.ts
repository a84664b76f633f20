// Interoperability with the libraries services already use. Tessera's access tokens (the
// real auth server, in process, listening on 127.0.0.1) verify with jose's
// createRemoteJWKSet + jwtVerify, and with express-jwt + jwks-rsa in a real Express app. The
// other way round, Tessera's verifier accepts tokens that jose signs for a foreign issuer
// (its JWKS served from a local HTTP server, EdDSA and RS256) and refuses disallowed
// algorithms, whatever the token header says.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes } from '@tessera/core';
import { createTestApp, testClock } from '@tessera/server/testing';
import { createVerifier } from '@tessera/verify';
import express from 'express';
import { expressjwt, type GetVerificationKey, type Request as JwtRequest } from 'express-jwt';
import type { FastifyInstance } from 'fastify';
import { type CryptoKey, createRemoteJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import jwksRsa from 'jwks-rsa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePart, login, signUp, uniqueEmail } from './lib/http.js';
import { freePort } from './lib/processes.js';

const AUDIENCE = 'orders';

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

const close = (server: Server | undefined) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

describe('Tessera tokens verify with other libraries', () => {
  let app: FastifyInstance;
  let issuer: string;
  let userId: string;
  let token: string;
  let expressServer: Server;
  let expressBase: string;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    // The real server app on memory stores; its clock starts now (frozen), so other libraries' real clocks agree.
    ({ app } = await createTestApp({ TESSERA_ISSUER: issuer, TESSERA_AUDIENCE: AUDIENCE }, undefined, { clock: testClock(Date.now()) }));
    await app.listen({ port, host: '127.0.0.1' });
    const email = uniqueEmail('interop');
    userId = (await signUp(issuer, email)).id;
    token = (await login(issuer, email)).access_token;

    const api = express();
    api.get(
      '/whoami',
      expressjwt({
        secret: jwksRsa.expressJwtSecret({
          jwksUri: `${issuer}/.well-known/jwks.json`,
          cache: true,
          rateLimit: true,
        }) as GetVerificationKey,
        algorithms: ['ES256'],
        issuer,
        audience: AUDIENCE,
      }),
      (req: JwtRequest, res) => {
        res.json(req.auth);
      },
    );
    api.use((err: { status?: number; code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).json({ error: err.code ?? 'error' });
    });
    expressServer = createServer(api);
    expressBase = await listen(expressServer);
  });
  afterAll(async () => {
    await close(expressServer);
    await app?.close();
  });

  it('jose: createRemoteJWKSet + jwtVerify (issuer, audience, typ at+jwt, ES256)', async () => {
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256'] });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload.sub).toBe(userId);
    expect(payload).toHaveProperty('sid');
    expect(payload).toHaveProperty('jti');
    // And jose refuses it for another audience, like any verifier should.
    await expect(jwtVerify(token, jwks, { issuer, audience: 'billing', typ: 'at+jwt' })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('express-jwt + jwks-rsa (expressJwtSecret, algorithms ES256) in a real Express app', async () => {
    const ok = await fetch(`${expressBase}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { sub: string }).sub).toBe(userId);

    // A token with the same kid signed by another key is refused there too.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodePart(token, 1))
      .setProtectedHeader({ alg: 'ES256', kid: decodePart(token, 0).kid as string, typ: 'at+jwt' })
      .sign(privateKey);
    const refused = await fetch(`${expressBase}/whoami`, { headers: { authorization: `Bearer ${forged}` } });
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
  });
});

describe("Tessera's verifier accepts tokens another issuer signs with jose", () => {
  const foreign = { server: undefined as Server | undefined, base: '' };
  let ed: { kid: string; privateKey: CryptoKey; publicKey: CryptoKey };
  // node:crypto KeyObjects, so one RSA key can sign both RS256 and PS256 (WebCrypto keys are bound to one).
  let rsa: { kid: string; privateKey: KeyObject; publicKey: KeyObject };

  beforeAll(async () => {
    ed = { kid: 'ed-1', ...(await generateKeyPair('EdDSA', { crv: 'Ed25519' })) };
    rsa = { kid: 'rsa-1', ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
    const keys: JWK[] = [
      { ...(await exportJWK(ed.publicKey)), kid: ed.kid, alg: 'EdDSA', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: rsa.kid, alg: 'RS256', use: 'sig' },
    ];
    foreign.server = createServer((req, res) => {
      if (req.url !== '/jwks.json') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' }).end(JSON.stringify({ keys }));
    });
    foreign.base = await listen(foreign.server);
  });
  afterAll(() => close(foreign.server));

  const sign = (alg: string, kid: string, key: CryptoKey | KeyObject, claims: Record<string, unknown> = {}, typ = 'at+jwt') =>
    new SignJWT({ client_id: 'partner-app', scope: 'orders:read', ...claims })
      .setProtectedHeader({ alg, kid, typ })
      .setIssuer(foreign.base)
      .setAudience(AUDIENCE)
      .setSubject('partner-user-7')
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(crypto.randomUUID())
      .sign(key);

  const verifierFor = (algorithms: ('EdDSA' | 'RS256')[]) =>
    createVerifier({ issuer: foreign.base, audience: AUDIENCE, jwksUri: `${foreign.base}/jwks.json`, algorithms });

  it('accepts EdDSA and RS256 tokens from the foreign JWKS', async () => {
    const verifier = verifierFor(['EdDSA', 'RS256']);
    await verifier.ready();
    for (const token of [await sign('EdDSA', ed.kid, ed.privateKey), await sign('RS256', rsa.kid, rsa.privateKey)]) {
      const claims = await verifier.verify(token);
      expect(claims).toMatchObject({ iss: foreign.base, sub: 'partner-user-7', aud: AUDIENCE, scope: 'orders:read' });
    }
    verifier.close();
  });

  it('refuses an algorithm it was not configured for, even with a valid signature from a published key', async () => {
    const verifier = verifierFor(['EdDSA']);
    await verifier.ready();
    await expect(verifier.verify(await sign('EdDSA', ed.kid, ed.privateKey))).resolves.toMatchObject({ sub: 'partner-user-7' });
    await expect(verifier.verify(await sign('RS256', rsa.kid, rsa.privateKey))).rejects.toMatchObject({ code: ErrorCodes.TOKEN_ALG });
    verifier.close();
  });

  it("refuses a header that picks another algorithm than the key's pinned one", async () => {
    const verifier = verifierFor(['EdDSA', 'RS256']);
    await verifier.ready();
    // PS256 by the RS256 key: a real signature by that key, but not the algorithm it is published for.
    await expect(verifier.verify(await sign('PS256', rsa.kid, rsa.privateKey))).rejects.toMatchObject({ code: ErrorCodes.TOKEN_ALG });
    // RS256 header under the EdDSA key's kid.
    await expect(verifier.verify(await sign('RS256', ed.kid, rsa.privateKey))).rejects.toMatchObject({ code: ErrorCodes.TOKEN_ALG });
    // alg confusion: HS256 keyed with the RSA public key, CVE-2015-9235.
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' })).toString('base64url');
    const payload = (await sign('RS256', rsa.kid, rsa.privateKey)).split('.')[1];
    const mac = createHmac('sha256', rsa.publicKey.export({ type: 'spki', format: 'pem' }))
      .update(`${header}.${payload}`)
      .digest('base64url');
    await expect(verifier.verify(`${header}.${payload}.${mac}`)).rejects.toMatchObject({ code: ErrorCodes.TOKEN_ALG });
    // And a foreign token without typ at+jwt (an ID token, say) is not an access token.
    await expect(verifier.verify(await sign('EdDSA', ed.kid, ed.privateKey, {}, 'JWT'))).rejects.toMatchObject({
      code: ErrorCodes.TOKEN_TYPE,
    });
    verifier.close();
  });
});
