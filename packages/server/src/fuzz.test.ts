/**
 * Property-based fuzzing of the HTTP edge: every route, random bodies and random garbage in
 * every header the server reads. Whatever comes in, the answer is never a 5xx, and every 4xx
 * is the JSON error shape. Fixed seed and bounded runs: deterministic and quick.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { cookieLogin, ISSUER, json, register, type Tokens, tokenLogin } from './test-helpers.js';

/** Every route of the app as method + path (`:sid` and `:id` are filled in by the fuzzer). */
const ROUTES: [string, string][] = [
  ['POST', '/v1/users'],
  ['POST', '/v1/token'],
  ['POST', '/v1/logout'],
  ['POST', '/v1/sessions'],
  ['GET', '/v1/sessions'],
  ['GET', '/v1/sessions/current'],
  ['DELETE', '/v1/sessions/current'],
  ['DELETE', '/v1/sessions/others'],
  ['DELETE', '/v1/sessions/:sid'],
  ['DELETE', '/v1/sessions'],
  ['GET', '/v1/me'],
  ['POST', '/v1/me/password'],
  ['GET', '/v1/revocations'],
  ['GET', '/.well-known/jwks.json'],
  ['GET', '/.well-known/openid-configuration'],
  ['POST', '/oauth/introspect'],
  ['POST', '/oauth/revoke'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['GET', '/'],
  ['GET', '/v1/admin/users/:id/roles'],
  ['PUT', '/v1/admin/users/:id/roles'],
];
/** Routes left out on purpose: a well-formed request to them never ends (Server-Sent Events). */
const STREAMING = new Set(['/v1/revocations/stream']);

const SEED = 20_261_126;
const RUNS_PER_ROUTE = 150;

/** Characters a client can put in a header value: visible ASCII, space, tab and obs-text. */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));
const headerText = (maxLength = 80) => fc.string({ unit: headerChar, maxLength }).map((s) => s.trim());

const FIELDS = [
  'email',
  'password',
  'name',
  'grant_type',
  'username',
  'refresh_token',
  'client_id',
  'scope',
  'token',
  'token_type_hint',
  'current_password',
  'new_password',
  'roles',
  '__proto__',
  'constructor',
];

describe('fuzz: every route, hostile input', () => {
  let t: TestApp;
  let tokens: Tokens;
  let cookie: string;
  let csrf: string;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp({
      TESSERA_TRUST_PROXY: 'true',
      TESSERA_CORS_ORIGINS: 'https://app.example',
      TESSERA_INTROSPECTION_CLIENTS: 'rs1:0123456789abcdef0123',
    });
    const user = await register(t.app);
    userId = user.id;
    tokens = await tokenLogin(t.app, user);
    const session = await cookieLogin(t.app, user);
    cookie = session.cookie.cookie;
    csrf = session.csrf;
  });

  it('lists every route the app serves', async () => {
    const doc = json<{ paths: Record<string, Record<string, unknown>> }>(await t.app.inject({ method: 'GET', url: '/openapi.json' }));
    const listed = new Set(ROUTES.map(([m, p]) => `${m} ${p.replace(':sid', '{sid}').replace(':id', '{id}')}`));
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (STREAMING.has(path)) continue;
      for (const method of Object.keys(methods)) {
        if (method === 'head') continue;
        expect(listed, `${method.toUpperCase()} ${path}`).toContain(`${method.toUpperCase()} ${path}`);
      }
    }
    for (const [method, path] of ROUTES) expect(t.app.hasRoute({ method: method as 'GET', url: path }), `${method} ${path}`).toBe(true);
  });

  /** A fresh, validly signed access token for the user: deeper code paths without an argon2 login per run. */
  const mint = () => t.app.tessera.issuer.issue({ sub: userId, sid: `fz${Math.random().toString(36).slice(2, 22).padEnd(20, 'x')}` }).token;

  const jsonValue = fc.jsonValue({ maxDepth: 4 });
  const fieldValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('password', 'refresh_token', 'client_credentials', 'access_token', 'a@b.co', 'x@example.com', ''),
    fc.string({ minLength: 12, maxLength: 24 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
    fc.constant('rt_'.padEnd(68, 'A')),
    fc.constant('x'.repeat(5000)),
  );
  const plausibleObject = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 5 });

  type Body = Pick<InjectOptions, 'payload'> & { contentType?: string };
  const body: fc.Arbitrary<Body> = fc.oneof(
    fc.constant({}),
    plausibleObject.map((o) => ({ payload: JSON.stringify(o), contentType: 'application/json' })),
    plausibleObject.map((o) => ({
      payload: new URLSearchParams(
        Object.entries(o).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      ).toString(),
      contentType: 'application/x-www-form-urlencoded',
    })),
    jsonValue.map((v) => ({ payload: JSON.stringify(v), contentType: 'application/json' })),
    fc.string({ maxLength: 200 }).map((s) => ({ payload: s, contentType: 'application/json' })),
    fc.string({ maxLength: 200 }).map((s) => ({ payload: s, contentType: 'application/x-www-form-urlencoded' })),
    fc
      .tuple(
        fc.string({ maxLength: 100 }),
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=zz',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
          'application/octet-stream',
          '*/*',
          'application/jsonx',
          'APPLICATION/JSON',
        ),
      )
      .map(([s, type]) => ({ payload: s, contentType: type })),
    fc.tuple(fc.nat({ max: 40_000 }), fc.constantFrom('application/json', 'application/x-www-form-urlencoded')).map(([n, type]) => ({
      payload: type === 'application/json' ? JSON.stringify({ password: 'p'.repeat(n) }) : `password=${'p'.repeat(n)}`,
      contentType: type,
    })),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ payload: Buffer.from(bytes), contentType: 'application/json' })),
  );

  const authorization = fc.oneof(
    headerText(),
    headerText().map((s) => `Bearer ${s}`),
    headerText().map((s) => `Basic ${Buffer.from(s, 'latin1').toString('base64')}`),
    fc.constant('Basic cnMxOjAxMjM0NTY3ODlhYmNkZWYwMTIz'),
    fc.constant(null).map(() => `Bearer ${tokens.access_token}`),
    fc.constant(null).map(() => `Bearer ${mint()}`),
    fc.nat({ max: 400 }).map((i) => {
      const token = tokens.access_token;
      const at = i % token.length;
      return `Bearer ${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    }),
    fc.constant(`Bearer ${'a'.repeat(20_000)}`),
  );
  const cookieHeader = fc.oneof(
    headerText(),
    headerText().map((s) => `tessera_session=${s}`),
    fc.constant(null).map(() => cookie),
    headerText(40).map((s) => `${cookie}; tessera_session=${s}`),
    fc.constant('tessera_session=%E0%A4%A'),
  );
  const headers = fc.record(
    {
      authorization,
      cookie: cookieHeader,
      origin: fc.oneof(headerText(), fc.constantFrom(ISSUER, 'https://app.example', 'https://evil.example', 'null')),
      'sec-fetch-site': fc.oneof(headerText(20), fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none')),
      'x-csrf-token': fc.oneof(
        headerText(),
        fc.constant(null).map(() => csrf),
      ),
      'content-type': headerText(60),
      'user-agent': headerText(300),
      'x-forwarded-for': fc.oneof(
        headerText(),
        fc.ipV4(),
        fc.ipV6(),
        fc.array(fc.ipV4(), { maxLength: 4 }).map((a) => a.join(', ')),
      ),
      'last-event-id': headerText(),
    },
    { requiredKeys: [] },
  );
  const query = fc.oneof(
    fc.constant(''),
    fc
      .record(
        { since: fc.oneof(headerText(70), fc.nat().map(String)), limit: fc.oneof(headerText(6), fc.nat().map(String)) },
        { requiredKeys: [] },
      )
      .map((q) => `?${new URLSearchParams(q as Record<string, string>).toString()}`),
    fc.string({ maxLength: 40 }).map((s) => `?${encodeURIComponent(s)}`),
  );
  const sid = fc.oneof(
    fc.string({ maxLength: 80 }).map((s) => encodeURIComponent(s) || 'x'),
    fc.constant('current'),
    fc.constant(`${'A'.repeat(22)}`),
    fc.constant('..%2F..%2Fetc%2Fpasswd'),
    fc.constant('%00'),
    fc.constantFrom('%E0%A4%A', '%zz', '%', '%%', '%C0%AF', '%ED%A0%80'),
    fc.string({ unit: headerChar, maxLength: 30 }).map((s) => s.replace(/[\s#?]/g, '%')),
    fc.constant('x'.repeat(300)),
  );

  it.each(ROUTES)(
    '%s %s never answers 5xx, and every 4xx is { error, error_description }',
    async (method, path) => {
      await fc.assert(
        fc.asyncProperty(body, headers, query, sid, async (b, h, q, s) => {
          const all: Record<string, string> = { ...h };
          if (b.contentType !== undefined && h['content-type'] === undefined) all['content-type'] = b.contentType;
          const url = `${path.replace(':sid', s).replace(':id', s)}${q}`;
          const res = await t.app.inject({
            method: method as 'GET',
            url,
            headers: all,
            ...(method !== 'GET' && b.payload !== undefined ? { payload: b.payload } : {}),
          });
          if (res.statusCode >= 500) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
          if (res.statusCode >= 400) {
            expect(res.headers['content-type'], res.body.slice(0, 200)).toMatch(/^application\/json/);
            const parsed = JSON.parse(res.body) as Record<string, unknown>;
            expect(typeof parsed.error, res.body).toBe('string');
            expect(typeof parsed.error_description, res.body).toBe('string');
            // RFC 7235 §3.1: a 401 always says how to authenticate.
            if (res.statusCode === 401) expect(res.headers['www-authenticate'], res.body).toBeDefined();
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    },
    60_000,
  );
});
