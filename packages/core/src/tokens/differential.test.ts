// Differential test against jose: over thousands of generated and mutated tokens, whenever
// Tessera accepts a token, jose (configured as strictly as it allows) accepts it too and
// returns the same claims. Tessera refusing what jose accepts is expected (we are stricter:
// duplicate members, non-canonical base64url, `crit`/`jwk` headers, `kid`, `iat` in the
// future, claim types…); those cases are counted by Tessera's error code and printed.
import { Buffer } from 'node:buffer';
import { constants, createHmac, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { exportJWK, type JWTVerifyOptions, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessTokenInput,
  ALGORITHMS,
  type Algorithm,
  createIssuer,
  createVerifier,
  generateSigningKey,
  type SigningKey,
  TokenError,
  type Verifier,
} from '../index.js';

const SEED = 20_251_126;
// The frozen clock, in whole seconds. jose floors `currentDate` to the second while Tessera compares
// with the clock's milliseconds, so under a fractional clock a fractional `nbf` less than a second
// ahead is accepted by Tessera and refused by jose: a precision difference, not a policy one.
const NOW = 1_700_000_000;
const LEEWAY = 30;
const ISSUER = 'https://auth.tessera.test';
const AUDIENCES = ['https://api.tessera.test', 'billing'];
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const MISSING = Symbol('missing');

/** Tokens per algorithm and source (1 400 per algorithm, 7 000 in all), checked in batches of {@link BATCH}. */
const RUNS = { issuer: 100, jose: 300, resigned: 400, mutated: 600 } as const;
const BATCH = 10;

const JOSE_OPTIONS = (alg: Algorithm): JWTVerifyOptions => ({
  issuer: ISSUER,
  audience: AUDIENCES,
  algorithms: [alg],
  typ: 'at+jwt',
  clockTolerance: LEEWAY,
  currentDate: new Date(NOW * 1000),
  requiredClaims: ['exp', 'sub'],
});

interface Context {
  alg: Algorithm;
  key: SigningKey;
  /** Another key of the same algorithm: signatures by it must fail. */
  other: SigningKey;
  /** The public key as PEM (alg confusion: HMAC keyed with it, CVE-2015-9235). */
  publicPem: string;
  publicJwk: Record<string, unknown>;
  verifier: Verifier;
  cached: Verifier;
  /** A pool of valid tokens from our issuer, to mutate. */
  pool: string[];
}

interface Tally {
  tokens: number;
  bothAccept: number;
  bothReject: number;
  /** Tessera refused, jose accepted: counted by Tessera's code. */
  stricter: Map<string, number>;
}

const tallies = new Map<Algorithm, Tally>();
const contexts = new Map<Algorithm, Context>();

function tally(alg: Algorithm): Tally {
  let t = tallies.get(alg);
  if (!t) {
    t = { tokens: 0, bothAccept: 0, bothReject: 0, stricter: new Map() };
    tallies.set(alg, t);
  }
  return t;
}

type Outcome = { ok: true; claims: unknown } | { ok: false; code: string };

function ours(verifier: Verifier, token: string): Outcome {
  try {
    return { ok: true, claims: verifier.verify(token) };
  } catch (err) {
    // Anything but a TokenError (a TypeError, a RangeError…) is a crash, and fails the property.
    if (!(err instanceof TokenError)) throw err;
    return { ok: false, code: err.code };
  }
}

async function theirs(ctx: Context, token: string): Promise<Outcome> {
  try {
    const { payload } = await jwtVerify(token, ctx.key.key, JOSE_OPTIONS(ctx.alg));
    return { ok: true, claims: payload };
  } catch (err) {
    return { ok: false, code: String((err as { code?: unknown }).code ?? 'error') };
  }
}

/**
 * The property, over a batch of tokens (jose verifies through WebCrypto's thread pool, so a
 * batch runs concurrently). Returns false, and fast-check shrinks, when Tessera accepts a token
 * jose refuses, when the claims differ, or when the cached path disagrees with the uncached one.
 */
async function agrees(ctx: Context, tokens: readonly string[]): Promise<boolean> {
  const t = tally(ctx.alg);
  const a = tokens.map((token) => ours(ctx.verifier, token));
  // The cached verifier must say exactly what the uncached one says, on a miss and on a hit.
  for (let i = 0; i < 2; i++) {
    for (const [n, token] of tokens.entries()) {
      const c = ours(ctx.cached, token);
      const u = a[n] as Outcome;
      if (c.ok !== u.ok || (c.ok && u.ok && !isDeepStrictEqual(c.claims, u.claims)) || (!c.ok && !u.ok && c.code !== u.code)) return false;
    }
  }
  const b = await Promise.all(tokens.map((token) => theirs(ctx, token)));
  for (const [n, ourOutcome] of a.entries()) {
    const joseOutcome = b[n] as Outcome;
    t.tokens++;
    if (ourOutcome.ok) {
      if (!joseOutcome.ok || !isDeepStrictEqual(ourOutcome.claims, joseOutcome.claims)) return false;
      t.bothAccept++;
    } else if (joseOutcome.ok) {
      t.stricter.set(ourOutcome.code, (t.stricter.get(ourOutcome.code) ?? 0) + 1);
    } else {
      t.bothReject++;
    }
  }
  return true;
}

// ---------------------------------------------------------------- arbitraries

/** `valid` most of the time, else one of the odd values. */
function mostly<T>(valid: fc.Arbitrary<T>, weight: number, ...odd: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid as fc.Arbitrary<unknown>, weight }, { arbitrary: fc.constantFrom(...odd), weight: 1 });
}

/** Around a boundary: ±2 s exactly, fractional, or a wider spread. */
const dateNear = (base: number) =>
  fc.oneof(
    fc.integer({ min: -2, max: 2 }).map((d) => base + d),
    fc.double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }).map((d) => base + d),
    fc.integer({ min: -4000, max: 4000 }).map((d) => base + d),
  );
const badDates = [String(NOW + 600), null, true, [NOW + 600], { t: NOW }, '', MISSING];

/** Any code point, lone surrogates included (JSON.stringify escapes them; both sides must read them back alike). */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((cu) => String.fromCharCode(cu)),
);
const unicode = (minLength: number, maxLength: number) => fc.array(codePoint, { minLength, maxLength }).map((cps) => cps.join(''));
const text = fc.oneof(fc.string({ maxLength: 12 }), unicode(0, 12));

const claimsArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    iss: mostly(fc.constant(ISSUER), 40, [ISSUER], [ISSUER, 'x'], `${ISSUER}/`, ISSUER.toUpperCase(), '', null, 1, MISSING),
    sub: mostly(fc.string({ minLength: 1, maxLength: 16 }), 30, '', 7, null, ['u'], { id: 'u' }, MISSING),
    aud: fc.oneof(
      { arbitrary: fc.constantFrom(...AUDIENCES), weight: 16 },
      { arbitrary: fc.shuffledSubarray([...AUDIENCES, 'other', `${AUDIENCES[0]}/`], { minLength: 1 }), weight: 8 },
      {
        arbitrary: fc.constantFrom(
          'other',
          [],
          ['other'],
          [AUDIENCES[0], 1],
          [AUDIENCES[0], null],
          AUDIENCES[0]?.toUpperCase(),
          42,
          {},
          [[AUDIENCES[0]]],
          MISSING,
        ),
        weight: 3,
      },
    ),
    exp: fc.oneof(
      { arbitrary: dateNear(NOW - LEEWAY), weight: 3 },
      { arbitrary: fc.integer({ min: NOW - LEEWAY + 1, max: NOW + 3600 }), weight: 9 },
      { arbitrary: fc.constantFrom(...badDates), weight: 1 },
    ),
    nbf: fc.oneof(
      { arbitrary: fc.constant(MISSING), weight: 6 },
      { arbitrary: dateNear(NOW + LEEWAY), weight: 3 },
      { arbitrary: fc.integer({ min: NOW - 3600, max: NOW }), weight: 3 },
      { arbitrary: fc.constantFrom(...badDates), weight: 1 },
    ),
    iat: fc.oneof(
      { arbitrary: fc.constant(MISSING), weight: 3 },
      { arbitrary: dateNear(NOW + LEEWAY), weight: 3 },
      { arbitrary: fc.integer({ min: NOW - 3600, max: NOW }), weight: 6 },
      { arbitrary: fc.constantFrom(...badDates), weight: 1 },
    ),
    jti: mostly(fc.oneof(fc.uuid(), fc.constant(MISSING)), 40, 5, null, ['j']),
    sid: mostly(fc.oneof(text, fc.constant(MISSING)), 40, 5, null, { s: 1 }),
    client_id: mostly(fc.oneof(text, fc.constant(MISSING)), 40, false, ['web']),
    scope: mostly(fc.oneof(text, fc.constant(MISSING)), 40, ['openid'], 0),
    email: mostly(fc.oneof(fc.emailAddress(), fc.constant(MISSING)), 40, 1, null),
    name: mostly(fc.oneof(text, fc.constant(MISSING)), 40, {}, null),
    roles: fc.oneof(
      { arbitrary: fc.constant(MISSING), weight: 10 },
      { arbitrary: fc.array(text, { maxLength: 3 }), weight: 6 },
      { arbitrary: fc.constantFrom('admin', ['a', 1], [null], { 0: 'a' }), weight: 1 },
    ),
    extra: fc.oneof(
      { arbitrary: fc.constant({}), weight: 12 },
      { arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), weight: 8 },
      { arbitrary: fc.constant({ pad: 'x'.repeat(9000) }), weight: 1 }, // over the size cap
    ),
  })
  .map(({ extra, ...claims }) => {
    const out: Record<string, unknown> = { ...extra };
    for (const [name, value] of Object.entries(claims)) if (value !== MISSING) out[name] = value;
    return out;
  });

function headerArb(ctx: Context, algs: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      alg: algs,
      kid: mostly(
        fc.constant(ctx.key.kid),
        40,
        ctx.other.kid,
        '',
        `${ctx.key.kid}x`,
        ctx.key.kid.toLowerCase(),
        'k'.repeat(300),
        7,
        null,
        MISSING,
      ),
      typ: mostly(
        fc.constant('at+jwt'),
        30,
        'AT+JWT',
        'application/at+jwt',
        'Application/At+Jwt',
        'JWT',
        'jwt',
        'at+jwt ',
        'application/jwt',
        'x-application/at+jwt',
        '',
        null,
        ['at+jwt'],
        MISSING,
      ),
      extra: mostly(
        fc.constant({}),
        24,
        { crit: ['exp'], exp: NOW + 60 },
        { crit: [] },
        { crit: ['b64'], b64: true },
        { b64: true },
        { b64: false },
        { jwk: ctx.publicJwk },
        { jku: 'https://evil.example/jwks' },
        { x5u: 'https://evil.example/cert' },
        { x5c: ['MIIB'] },
        { zip: 'DEF' },
        { cty: 'JWT' },
        { foo: 'bar' },
        { 'x5t#S256': 'abc' },
      ),
    })
    .map(({ extra, ...members }) => {
      const out: Record<string, unknown> = { ...(extra as object) };
      for (const [name, value] of Object.entries(members)) if (value !== MISSING) out[name] = value;
      return out;
    });
}

/** Header `alg` values: the key's own nearly always, else another, `none` in any case, or junk. */
function algArb(alg: Algorithm): fc.Arbitrary<unknown> {
  return mostly(
    fc.constant(alg),
    40,
    ...ALGORITHMS.filter((a) => a !== alg),
    'none',
    'None',
    'NONE',
    '',
    'hs256',
    `${alg} `,
    'RS384',
    'ES512',
    'Ed25519',
    256,
    MISSING,
  );
}

// ---------------------------------------------------------------- raw signing and encoding

/** An independent signer (not Tessera's), so a bug in `signBytes` cannot hide itself. */
function rawSign(alg: Algorithm, key: KeyObject, input: Buffer, der = false): Buffer {
  switch (alg) {
    case 'HS256':
      return createHmac('sha256', key).update(input).digest();
    case 'ES256':
      return sign('sha256', input, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, input, key);
    case 'RS256':
      return sign('sha256', input, key);
    case 'PS256':
      return sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
}

type JsonEdit = 'none' | 'dupe' | 'escaped-dupe' | 'bom' | 'spaces' | 'trailing-comma' | 'bad-utf8' | 'infinity' | 'deep' | 'array';
type SignMode = 'key' | 'other' | 'confusion' | 'der' | 'zero' | 'truncated' | 'empty';
type Encoding = 'canonical' | 'padded' | 'standard' | 'stray-bits' | 'space' | 'newline';

/** Edits serialized JSON in ways a careless parser forgives. */
function editJson(json: string, edit: JsonEdit): Buffer {
  const first = /^\{"([^"\\]+)":/.exec(json)?.[1];
  switch (edit) {
    case 'none':
      return Buffer.from(json);
    case 'dupe': // duplicate member: JSON.parse keeps the last, so two parsers can disagree
      return Buffer.from(first ? `{"${first}":"dupe",${json.slice(1)}` : json);
    case 'escaped-dupe': // the same name spelled with an escape
      return Buffer.from(
        first ? `{"\\u${first.charCodeAt(0).toString(16).padStart(4, '0')}${first.slice(1)}":"dupe",${json.slice(1)}` : json,
      );
    case 'bom':
      return Buffer.from(`\uFEFF${json}`);
    case 'spaces':
      return Buffer.from(` \n${json}\t `);
    case 'trailing-comma':
      return Buffer.from(`${json.slice(0, -1)},}`);
    case 'bad-utf8': {
      const bytes = Buffer.from(json.replace(/^\{/, '{"x":"\u00e9",'));
      const at = bytes.indexOf(0xc3);
      if (at >= 0) bytes[at] = 0xff;
      return bytes;
    }
    case 'infinity': // 1e400 parses to Infinity: not a NumericDate
      return Buffer.from(json.replace(/"(exp|nbf|iat)":(-?)[0-9.e+-]+/, '"$1":$21e400'));
    case 'deep':
      return Buffer.from(`{"deep":${'['.repeat(40)}${']'.repeat(40)},${json.slice(1)}`);
    case 'array':
      return Buffer.from(`[${json}]`);
  }
}

function encode(bytes: Buffer, encoding: Encoding): string {
  const canonical = bytes.toString('base64url');
  switch (encoding) {
    case 'canonical':
      return canonical;
    case 'padded':
      return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'standard':
      return bytes.toString('base64').replace(/=+$/, '');
    case 'stray-bits': {
      // Set bits that decoding discards: a second spelling of the same bytes.
      const rem = canonical.length % 4;
      if (rem === 0 || canonical.length === 0) return canonical;
      const last = B64URL.indexOf(canonical[canonical.length - 1] as string);
      return canonical.slice(0, -1) + B64URL[last | (rem === 2 ? 0x01 : 0x02)];
    }
    case 'space':
      return `${canonical.slice(0, 4)} ${canonical.slice(4)}`;
    case 'newline':
      return `${canonical}\n`;
  }
}

interface Resigned {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  headerEdit: JsonEdit;
  payloadEdit: JsonEdit;
  mode: SignMode;
  encoding: Encoding;
  segment: number;
}

function resign(ctx: Context, r: Resigned): string {
  const h = encode(editJson(JSON.stringify(r.header), r.headerEdit), r.segment === 0 ? r.encoding : 'canonical');
  const p = encode(editJson(JSON.stringify(r.claims), r.payloadEdit), r.segment === 1 ? r.encoding : 'canonical');
  const input = Buffer.from(`${h}.${p}`, 'latin1');
  let sig: Buffer;
  switch (r.mode) {
    case 'key':
      sig = rawSign(ctx.alg, ctx.key.privateKey, input);
      break;
    case 'other':
      sig = rawSign(ctx.alg, ctx.other.privateKey, input);
      break;
    case 'confusion': // HS256 keyed with the public key's PEM (for HS256 itself: the secret's text)
      sig = createHmac('sha256', ctx.alg === 'HS256' ? ctx.key.key.export().toString('base64url') : ctx.publicPem)
        .update(input)
        .digest();
      break;
    case 'der':
      sig = rawSign(ctx.alg, ctx.key.privateKey, input, true);
      break;
    case 'zero': // the "psychic signature" (CVE-2022-21449) and its cousins
      sig = Buffer.alloc(rawSign(ctx.alg, ctx.key.privateKey, input).length);
      break;
    case 'truncated':
      sig = rawSign(ctx.alg, ctx.key.privateKey, input).subarray(1);
      break;
    case 'empty':
      sig = Buffer.alloc(0);
      break;
  }
  return `${h}.${p}.${encode(sig, r.segment === 2 ? r.encoding : 'canonical')}`;
}

function resignedArb(ctx: Context): fc.Arbitrary<Resigned> {
  const edits: JsonEdit[] = ['dupe', 'escaped-dupe', 'bom', 'spaces', 'trailing-comma', 'bad-utf8', 'infinity', 'deep', 'array'];
  const edit = fc.oneof({ arbitrary: fc.constant<JsonEdit>('none'), weight: 20 }, { arbitrary: fc.constantFrom(...edits), weight: 2 });
  return fc.record({
    header: headerArb(ctx, algArb(ctx.alg)),
    claims: claimsArb,
    headerEdit: edit,
    payloadEdit: edit,
    mode: fc.oneof(
      { arbitrary: fc.constant<SignMode>('key'), weight: 30 },
      { arbitrary: fc.constantFrom<SignMode>('other', 'confusion', 'der', 'zero', 'truncated', 'empty'), weight: 3 },
    ),
    encoding: fc.oneof(
      { arbitrary: fc.constant<Encoding>('canonical'), weight: 20 },
      { arbitrary: fc.constantFrom<Encoding>('padded', 'standard', 'stray-bits', 'space', 'newline'), weight: 3 },
    ),
    segment: fc.integer({ min: 0, max: 2 }),
  });
}

// ---------------------------------------------------------------- string mutations

type Op =
  | { kind: 'flip' | 'insert'; at: number; ch: string }
  | { kind: 'shadow'; at: number; high: number }
  | { kind: 'delete' | 'case' | 'truncate'; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'dup' | 'drop'; a: number }
  | { kind: 'pad'; a: number; pad: string };

const mutationChar = fc.oneof(
  { arbitrary: fc.constantFrom(...B64URL), weight: 8 },
  { arbitrary: fc.constantFrom('.', '=', ' ', '\n', '\t', '+', '/', '%', '\u00e9', '\u0000', '\uFEFF'), weight: 2 },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), ch: mutationChar }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: mutationChar }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'case' as const, 'truncate' as const), at: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('shadow' as const), at: fc.nat(), high: fc.integer({ min: 1, max: 255 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('swap' as const), a: fc.nat(3), b: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constantFrom('dup' as const, 'drop' as const), a: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('pad' as const), a: fc.nat(3), pad: fc.constantFrom('=', '==', ' ', '\r\n') }), weight: 1 },
);

function mutate(token: string, op: Op): string {
  const parts = token.split('.');
  switch (op.kind) {
    case 'flip': {
      const at = op.at % Math.max(token.length, 1);
      return token.slice(0, at) + op.ch + token.slice(at + 1);
    }
    case 'insert': {
      const at = op.at % (token.length + 1);
      return token.slice(0, at) + op.ch + token.slice(at);
    }
    case 'delete': {
      const at = op.at % Math.max(token.length, 1);
      return token.slice(0, at) + token.slice(at + 1);
    }
    case 'shadow': {
      // Same low byte, another character: equal to the original under latin1 (cache-key and signing-input aliasing).
      const at = op.at % Math.max(token.length, 1);
      return token.slice(0, at) + String.fromCharCode((token.charCodeAt(at) & 0xff) + 0x100 * op.high) + token.slice(at + 1);
    }
    case 'case': {
      const at = op.at % Math.max(token.length, 1);
      const c = token.charAt(at);
      const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return token.slice(0, at) + swapped + token.slice(at + 1);
    }
    case 'truncate':
      return token.slice(0, op.at % (token.length + 1));
    case 'swap': {
      const a = op.a % parts.length;
      const b = op.b % parts.length;
      [parts[a], parts[b]] = [parts[b] as string, parts[a] as string];
      return parts.join('.');
    }
    case 'dup':
      parts.splice(op.a % parts.length, 0, parts[op.a % parts.length] as string);
      return parts.join('.');
    case 'drop':
      parts.splice(op.a % parts.length, 1);
      return parts.join('.');
    case 'pad': {
      const a = op.a % parts.length;
      parts[a] = `${parts[a]}${op.pad}`;
      return parts.join('.');
    }
  }
}

// ---------------------------------------------------------------- issuer inputs

const inputArb: fc.Arbitrary<AccessTokenInput & { ttl: number }> = fc
  .record(
    {
      sub: fc.oneof(fc.string({ minLength: 1, maxLength: 24 }), unicode(1, 24)),
      sid: fc.uuid(),
      client_id: text,
      scope: fc.array(fc.constantFrom('openid', 'profile', 'email', 'admin:write'), { maxLength: 4 }).map((s) => s.join(' ')),
      aud: fc.oneof(
        fc.constantFrom(...AUDIENCES),
        fc.shuffledSubarray([...AUDIENCES, 'other'], { minLength: 1 }).filter((a) => a.some((x) => AUDIENCES.includes(x))),
      ),
      email: fc.emailAddress(),
      name: text,
      roles: fc.array(text, { maxLength: 3 }),
      ttl: fc.integer({ min: 1, max: 3600 }),
    },
    { requiredKeys: ['sub', 'ttl'] },
  )
  .map((input) => input as AccessTokenInput & { ttl: number });

// ---------------------------------------------------------------- the tests

/** A fixed seed and a bounded number of runs: the same tokens every time, in a few seconds. */
function fcOptions(alg: Algorithm, tokens: number) {
  return { seed: SEED + ALGORITHMS.indexOf(alg), numRuns: Math.ceil(tokens / BATCH) };
}

const batch = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: BATCH, maxLength: BATCH });

describe('differential against jose', () => {
  beforeAll(async () => {
    for (const alg of ALGORITHMS) {
      const key = await generateSigningKey(alg);
      const other = await generateSigningKey(alg);
      const publicPem = alg === 'HS256' ? '' : createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString();
      const publicJwk = alg === 'HS256' ? { kty: 'oct', k: 'AAAA' } : { ...(await exportJWK(key.key)), kid: key.kid };
      const common = { issuer: ISSUER, audience: AUDIENCES, keys: new Map([[key.kid, key]]), leeway: LEEWAY, clock: () => NOW * 1000 };
      const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCES[0], signingKey: key, clock: () => NOW * 1000 });
      const pool = fc
        .sample(inputArb, { seed: SEED, numRuns: 24 })
        .map((input) => issuer.issue({ ...input, ttl: Math.max(input.ttl, LEEWAY + 1) }).token);
      contexts.set(alg, {
        alg,
        key,
        other,
        publicPem,
        publicJwk,
        verifier: createVerifier({ ...common, cache: false }),
        cached: createVerifier({ ...common, cache: { max: 64 } }),
        pool,
      });
    }
  });

  afterAll(() => {
    const lines = [
      `differential vs jose (seed ${SEED} + algorithm index): tokens, both accept, both reject, Tessera-only reject (by code)`,
    ];
    for (const [alg, t] of tallies) {
      const stricter = [...t.stricter].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`);
      const only = [...t.stricter.values()].reduce((s, n) => s + n, 0);
      lines.push(
        `  ${alg.padEnd(6)} ${String(t.tokens).padStart(5)}  accept ${String(t.bothAccept).padStart(4)}  reject ${String(t.bothReject).padStart(5)}  stricter ${String(only).padStart(4)}: ${stricter.join(', ')}`,
      );
    }
    console.log(lines.join('\n'));
  });

  describe.each(ALGORITHMS.map((alg) => [alg]))('%s', (alg) => {
    const ctx = () => contexts.get(alg) as Context;

    it('accepts every token our issuer makes while it is valid, as jose does, with the same claims', async () => {
      const arb = fc.record({ input: inputArb, when: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) });
      await fc.assert(
        fc.asyncProperty(batch(arb), (cases) => {
          const tokens = cases.map(({ input, when }) => {
            // Issued `age` seconds ago, from the leeway in the future to the last second before exp + leeway.
            const age = -LEEWAY + Math.floor(when * (input.ttl + 2 * LEEWAY));
            const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCES[0], signingKey: ctx().key, clock: () => (NOW - age) * 1000 });
            const { token, claims } = issuer.issue(input);
            expect(ours(ctx().verifier, token)).toEqual({ ok: true, claims });
            return token;
          });
          return agrees(ctx(), tokens);
        }),
        fcOptions(alg, RUNS.issuer),
      );
    });

    it('never accepts what jose refuses: tokens signed by jose with random claims and headers', async () => {
      const arb = fc.record({ header: headerArb(ctx(), fc.constant(alg)), claims: claimsArb });
      await fc.assert(
        fc.asyncProperty(batch(arb), async (cases) => {
          const signed = await Promise.all(
            cases.map(({ header, claims }) =>
              // jose refuses to sign some (an unknown `crit`, say): nothing to compare then.
              new SignJWT(claims)
                .setProtectedHeader(header as { alg: string })
                .sign(ctx().key.privateKey)
                .catch(() => undefined),
            ),
          );
          return agrees(
            ctx(),
            signed.filter((token) => token !== undefined),
          );
        }),
        fcOptions(alg, RUNS.jose),
      );
    });

    it('never accepts what jose refuses: re-signed tokens with altered headers, claims, JSON and encodings', async () => {
      await fc.assert(
        fc.asyncProperty(batch(resignedArb(ctx())), (cases) =>
          agrees(
            ctx(),
            cases.map((r) => resign(ctx(), r)),
          ),
        ),
        fcOptions(alg, RUNS.resigned),
      );
    });

    it('never accepts what jose refuses: valid tokens with characters flipped, inserted, deleted and segments moved', async () => {
      const arb = fc.record({ index: fc.nat(23), ops: fc.array(opArb, { minLength: 1, maxLength: 3 }) });
      await fc.assert(
        fc.asyncProperty(batch(arb), (cases) =>
          agrees(
            ctx(),
            cases.map(({ index, ops }) => {
              const original = ctx().pool[index] as string;
              ctx().cached.verify(original); // cached first, so a mutation that aliases it would be a hit
              return ops.reduce(mutate, original);
            }),
          ),
        ),
        fcOptions(alg, RUNS.mutated),
      );
    });
  });
});
