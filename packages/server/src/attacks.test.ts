/**
 * Hostile access tokens through the real HTTP edge (`GET /v1/me`): the token-core attack list,
 * each answered 401 invalid_token with an RFC 6750 challenge and a JSON body that never echoes
 * the token. Tokens are built by hand with node:crypto, never with the issuer under test.
 */
import { Buffer } from 'node:buffer';
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningKey } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { bearer, decodePayload, expectInvalidToken, ISSUER, me, register, tokenLogin } from './test-helpers.js';

const b64 = (value: unknown): string => {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
};

function es256(input: string, key: KeyObject, encoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): string {
  return sign('sha256', Buffer.from(input), { key, dsaEncoding: encoding }).toString('base64url');
}

describe('hostile access tokens at GET /v1/me', () => {
  let t: TestApp;
  let key: SigningKey;
  let userId: string;
  let sid: string;
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'ES256', use: 'sig' };
  // A listener a jku/x5u-following verifier would call: it must never see a request.
  let fetched = 0;
  const listener = createServer((_req, res) => {
    fetched++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [attackerJwk] }));
  });
  let listenerUrl = '';

  beforeAll(async () => {
    t = await createTestApp();
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    userId = user.id;
    sid = decodePayload(tokens.access_token).sid as string;
    key = t.app.tessera.keys.signingKey();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
  });

  const now = () => Math.floor(t.clock.now / 1000);
  const header = (over: Record<string, unknown> = {}) => strip({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...over });
  const claims = (over: Record<string, unknown> = {}) =>
    strip({ iss: ISSUER, sub: userId, aud: ISSUER, exp: now() + 600, iat: now(), jti: 'j-1', sid, client_id: 'tessera', ...over });
  function strip(o: Record<string, unknown>) {
    for (const [k, v] of Object.entries(o)) if (v === undefined) delete o[k];
    return o;
  }
  /** Signs raw header and payload segments (already base64url) with the server's own private key. */
  const signRaw = (h: string, p: string, k: KeyObject = key.privateKey) => `${h}.${p}.${es256(`${h}.${p}`, k)}`;
  /** A token signed with the server's own key: only its content is hostile. */
  const forge = (h: unknown, p: unknown, k?: KeyObject) => signRaw(b64(h), b64(p), k);

  it('control: the hand-built token with valid content is accepted (so the refusals below mean something)', async () => {
    const res = await me(t.app, bearer(forge(header(), claims())));
    expect(res.statusCode, res.body).toBe(200);
  });

  const cases: [string, () => string][] = [
    // alg none, CVE-2015-9235 family
    ['alg none, empty signature', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.`],
    ['alg none, with a signature', () => forge(header({ alg: 'none' }), claims())],
    ['alg NoNe', () => `${b64(header({ alg: 'NoNe' }))}.${b64(claims())}.${b64('x')}`],
    ['alg missing', () => forge(header({ alg: undefined }), claims())],
    // alg confusion: HS256 keyed with the public key, CVE-2015-9235 / CVE-2016-10555
    [
      'HS256 keyed with the public key PEM',
      () => {
        const pem = key.key.export({ type: 'spki', format: 'pem' });
        const input = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    ],
    [
      'HS256 keyed with the public JWK JSON',
      () => {
        const jwk = JSON.stringify(key.key.export({ format: 'jwk' }));
        const input = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
        return `${input}.${createHmac('sha256', jwk).update(input).digest('base64url')}`;
      },
    ],
    ['RS256 header on the ES256 key', () => forge(header({ alg: 'RS256' }), claims())],
    // The token choosing its own key, CVE-2018-0114
    ['embedded jwk, signed by the attacker, our kid', () => forge(header({ jwk: attackerJwk }), claims(), attacker.privateKey)],
    [
      'embedded jwk, signed by the attacker, its kid',
      () => forge(header({ jwk: attackerJwk, kid: 'attacker' }), claims(), attacker.privateKey),
    ],
    ['embedded jwk, signed by us', () => forge(header({ jwk: attackerJwk }), claims())],
    ['jku to a listener', () => forge(header({ jku: `${listenerUrl}/jwks.json`, kid: 'attacker' }), claims(), attacker.privateKey)],
    ['jku to a listener, our kid', () => forge(header({ jku: `${listenerUrl}/jwks.json` }), claims(), attacker.privateKey)],
    ['x5u to a listener', () => forge(header({ x5u: `${listenerUrl}/cert.pem`, kid: 'attacker' }), claims(), attacker.privateKey)],
    ['attacker key under our kid', () => forge(header(), claims(), attacker.privateKey)],
    // kid injection
    ['kid path traversal', () => forge(header({ kid: '../../../../../../dev/null' }), claims())],
    ['kid SQL injection', () => forge(header({ kid: "' OR '1'='1' --" }), claims())],
    ['kid 10 KB', () => forge(header({ kid: 'k'.repeat(10_240) }), claims())],
    ['kid empty', () => forge(header({ kid: '' }), claims())],
    ['kid a number', () => forge(header({ kid: 1 }), claims())],
    ['kid missing', () => forge(header({ kid: undefined }), claims())],
    ['kid __proto__', () => forge(header({ kid: '__proto__' }), claims())],
    // Signature encoding
    ['psychic signature r = s = 0, CVE-2022-21449', () => `${b64(header())}.${b64(claims())}.${b64(new Uint8Array(64))}`],
    [
      'r = 0 only',
      () => {
        const real = Buffer.from(forge(header(), claims()).split('.')[2] as string, 'base64url');
        real.fill(0, 0, 32);
        return `${b64(header())}.${b64(claims())}.${b64(real)}`;
      },
    ],
    [
      'DER-encoded ES256 signature',
      () => {
        const input = `${b64(header())}.${b64(claims())}`;
        return `${input}.${es256(input, key.privateKey, 'der')}`;
      },
    ],
    [
      'signature with a trailing byte',
      () => {
        const [h, p, s] = forge(header(), claims()).split('.');
        return `${h}.${p}.${b64(Buffer.concat([Buffer.from(s as string, 'base64url'), Buffer.from([0])]))}`;
      },
    ],
    ['empty signature', () => `${b64(header())}.${b64(claims())}.`],
    ['two segments', () => `${b64(header())}.${b64(claims())}`],
    ['four segments', () => `${forge(header(), claims())}.${b64('x')}`],
    // Encoding tricks on a validly signed token
    ['base64 padding', () => `${forge(header(), claims())}=`],
    [
      'padding inside a segment',
      () => {
        const [h, p, s] = forge(header(), claims()).split('.');
        return `${h}==.${p}.${s}`;
      },
    ],
    [
      'whitespace inside',
      () => {
        const [h, p, s] = forge(header(), claims()).split('.');
        return `${h}. ${p}.${s}`;
      },
    ],
    [
      'tab inside the signature',
      () => {
        const [h, p, s] = forge(header(), claims()).split('.');
        return `${h}.${p}.${(s as string).slice(0, 20)}\t${(s as string).slice(20)}`;
      },
    ],
    [
      'standard base64 alphabet (+/)',
      () => {
        let token = '';
        for (let i = 0; !/[-_]/.test(token); i++) token = forge(header(), claims({ jti: `pad-${i}` }));
        return token.replace(/-/g, '+').replace(/_/g, '/');
      },
    ],
    [
      'non-canonical trailing bits',
      () => {
        const [h, p, s] = forge(header(), claims()).split('.');
        const last = (s as string).at(-1) as string;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return `${h}.${p}.${(s as string).slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
      },
    ],
    // Header members we do not implement, RFC 7515 §4.1.11
    ['unknown crit', () => forge(header({ crit: ['x-tessera-unknown'], 'x-tessera-unknown': true }), claims())],
    ['crit naming a registered claim', () => forge(header({ crit: ['exp'] }), claims())],
    ['b64 false', () => forge(header({ b64: false, crit: ['b64'] }), claims())],
    ['zip', () => forge(header({ zip: 'DEF' }), claims())],
    // typ, RFC 9068 §2.1
    ['typ JWT', () => forge(header({ typ: 'JWT' }), claims())],
    ['typ missing', () => forge(header({ typ: undefined }), claims())],
    ['typ id token', () => forge(header({ typ: 'id_token+jwt' }), claims())],
    // Claims
    ['iss array, CVE-2025-30144', () => forge(header(), claims({ iss: [ISSUER] }))],
    ['iss other', () => forge(header(), claims({ iss: 'https://evil.example' }))],
    ['iss with a trailing slash', () => forge(header(), claims({ iss: `${ISSUER}/` }))],
    ['iss missing', () => forge(header(), claims({ iss: undefined }))],
    ['aud other', () => forge(header(), claims({ aud: 'https://other.example' }))],
    ['aud missing', () => forge(header(), claims({ aud: undefined }))],
    ['aud empty array', () => forge(header(), claims({ aud: [] }))],
    ['aud with a non-string', () => forge(header(), claims({ aud: [ISSUER, 1] }))],
    ['exp a string', () => forge(header(), claims({ exp: String(now() + 600) }))],
    ['exp in the past', () => forge(header(), claims({ exp: now() - 3600, iat: now() - 4200 }))],
    ['exp missing', () => forge(header(), claims({ exp: undefined }))],
    ['exp NaN-ish', () => signRaw(b64(header()), b64(JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e400')))],
    ['nbf in the future', () => forge(header(), claims({ nbf: now() + 3600 }))],
    ['iat an hour ahead', () => forge(header(), claims({ iat: now() + 3600 }))],
    ['sub missing', () => forge(header(), claims({ sub: undefined }))],
    ['sub empty', () => forge(header(), claims({ sub: '' }))],
    ['sub a number', () => forge(header(), claims({ sub: 42 }))],
    ['sid an object', () => forge(header(), claims({ sid: { $ne: null } }))],
    ['duplicate sub', () => signRaw(b64(header()), b64(JSON.stringify(claims()).replace(/^\{/, '{"sub":"someone-else",')))],
    [
      'duplicate sub via escape',
      () => signRaw(b64(header()), b64(JSON.stringify(claims()).replace(/^\{/, '{"s\\u0075b":"someone-else",'))),
    ],
    ['duplicate alg in the header', () => signRaw(b64(JSON.stringify(header()).replace(/^\{/, '{"alg":"none",')), b64(claims()))],
    // Payload shapes
    ['payload an array', () => forge(header(), [claims()])],
    ['payload a string', () => forge(header(), JSON.stringify(JSON.stringify(claims())))],
    ['payload a number', () => forge(header(), '42')],
    ['payload null', () => forge(header(), 'null')],
    ['payload not JSON', () => forge(header(), 'not json')],
    ['header an array', () => forge([header()], claims())],
    [
      'payload invalid UTF-8',
      () =>
        signRaw(
          b64(header()),
          b64(Buffer.concat([Buffer.from(JSON.stringify(claims()).slice(0, -1)), Buffer.from(',"x":"\xff\xfe"}', 'latin1')])),
        ),
    ],
    ['header invalid UTF-8', () => signRaw(b64(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), b64(claims()))],
    [
      'payload deeply nested',
      () => signRaw(b64(header()), b64(`${JSON.stringify(claims()).slice(0, -1)},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`)),
    ],
    ['payload with a BOM', () => signRaw(b64(header()), b64(`\ufeff${JSON.stringify(claims())}`))],
    // Sizes
    ['token over 8 KB', () => forge(header(), claims({ pad: 'p'.repeat(9000) }))],
    ['garbage', () => 'garbage'],
    ['dots only', () => '..'],
  ];

  it.each(cases)('refuses %s with 401 invalid_token, never echoing the token', async (_name, build) => {
    const token = build();
    const res = await me(t.app, bearer(token));
    expectInvalidToken(res);
    for (const part of [token, ...token.split('.').filter((s) => s.length > 8)]) {
      expect(res.body).not.toContain(part);
      expect(String(res.headers['www-authenticate'])).not.toContain(part);
    }
  });

  it('never fetched a jku or x5u URL', () => {
    expect(fetched).toBe(0);
  });

  it('answers a 1 MB Authorization header with a 4xx, not a 5xx', async () => {
    const token = 'a'.repeat(1024 * 1024);
    const res = await me(t.app, bearer(token));
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.body.length).toBeLessThan(1000);
  });

  it('answers a 1 MB Authorization header over a real socket with a 4xx too', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${address}/v1/me`, { headers: { authorization: `Bearer ${'a'.repeat(1024 * 1024)}` } }).catch(() => null);
      // Node may answer 431 or drop the connection; either way, never a 5xx.
      if (res) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      const ok = await fetch(`${address}/healthz`);
      expect(ok.status).toBe(200);
    } finally {
      await t.app.close();
    }
  });
});
