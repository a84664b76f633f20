// Token micro-benchmark: sign and verify with Tessera against a raw node:crypto floor,
// fast-jwt, jose and jsonwebtoken, all in one process, with the same keys and claims.
//
// Method: one warm-up round, then ROUNDS measured rounds. In a round, every implementation of an
// (algorithm, operation) gets about SLICE_MS, cut into PASSES short passes interleaved with the
// other implementations' passes, in a fresh (seeded) order every pass and after a minor GC, so
// that drift (thermal, other processes) and leftover garbage spread over all of them. A round's
// µs/op is the median of its passes; the reported µs/op is the median of the rounds. Ratios are
// paired: in each pass, one implementation's time over the other's (run side by side), median
// over the passes, then over the rounds, so that slow phases of a shared machine cancel. Iteration
// counts are sized from each implementation's own speed. Keys (KeyObjects, PEMs) and options are
// built outside the timed loops for every implementation, and every signer issues the same claims
// (`iat`/`exp` from the clock, a fresh `jti`), as Tessera's issuer does.
//
// Run: npm run bench:tokens  (writes bench/results/tokens.json)
// Knobs: BENCH_ROUNDS (9), BENCH_SLICE_MS (150), BENCH_ALGS (all; a subset writes tokens-partial.json),
// BENCH_RESULTS_DIR (bench/results; another directory leaves the committed file alone).
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createVerifier as createFastVerifier, createSigner } from 'fast-jwt';
import { jwtVerify, SignJWT } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { writeResults } from '../packages/cli/src/bench/lib/results.js';
import { halfIqr, median, pairedRatio as paired } from '../packages/cli/src/bench/lib/stats.js';
import { plainTable } from '../packages/cli/src/bench/lib/table.js';
import { type AccessTokenClaims, createIssuer, createVerifier, generateSigningKey } from '../packages/core/src/index.js';
import { RESULTS_DIR } from './results-dir.js';
import { rawSign, rawVerify } from './tokens/raw.js';

type Alg = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
type Op = 'sign' | 'verify';
type Impl = 'tessera' | 'tessera-cached' | 'raw' | 'fast-jwt' | 'jose' | 'jsonwebtoken';

const ALL_ALGS: readonly Alg[] = ['HS256', 'RS256', 'ES256', 'EdDSA'];
/** BENCH_ALGS picks algorithms (e.g. `RS256,HS256`); targets are checked for those that ran. */
const ALGS: readonly Alg[] = process.env.BENCH_ALGS ? ALL_ALGS.filter((a) => process.env.BENCH_ALGS?.split(',').includes(a)) : ALL_ALGS;
/** jsonwebtoken 9 has no EdDSA ("Unknown key type ed25519"): those rows are left out, not faked. */
const UNSUPPORTED: ReadonlySet<string> = new Set(['jsonwebtoken EdDSA']);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Wall time each implementation gets per round (ms), sized from its own speed. */
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 150);
/** Interleaved passes per round: each implementation's slice is cut into this many pieces. */
const PASSES = 15;
const ISSUER = 'https://auth.tessera.bench';
const AUDIENCE = 'https://api.tessera.bench';
const LEEWAY = 30;
const TTL = 600;

/** A timed body: sync for everything but jose, whose API is promise-based (awaited one at a time). */
type Body = { sync: () => unknown } | { async: () => Promise<unknown> };

interface Subject {
  alg: Alg;
  op: Op;
  impl: Impl;
  body: Body;
}

// ---------------------------------------------------------------- the same claims for everyone

/**
 * Every signer issues the same access token: header `{ alg, kid, typ: "at+jwt" }`, claims
 * built at sign time with `iat`/`exp` from the clock and a fresh `jti`, as Tessera's issuer does.
 */
function claimsNow(): AccessTokenClaims {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: 'user_8c1f2a9d',
    aud: AUDIENCE,
    exp: iat + TTL,
    iat,
    jti: randomUUID(),
    sid: 'ses_4b7e9f0a2c',
    client_id: 'web',
    scope: 'openid profile email',
  };
}

// ---------------------------------------------------------------- subjects

async function subjectsFor(alg: Alg): Promise<{ subjects: Subject[]; tokenBytes: number }> {
  const key = await generateSigningKey(alg);
  const keys = new Map([[key.kid, key]]);
  const isHs = alg === 'HS256';
  // fast-jwt takes PEM strings (or the secret bytes), converted once here and cached by fast-jwt;
  // everyone else gets the KeyObjects themselves (jsonwebtoken would otherwise re-import a PEM per call).
  const privatePem = isHs ? key.privateKey.export() : key.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicPem = isHs ? key.key.export() : key.key.export({ type: 'spki', format: 'pem' });

  const issuer = createIssuer({ issuer: ISSUER, audience: AUDIENCE, signingKey: key, ttl: TTL });
  const token = issuer.issue({ sub: 'user_8c1f2a9d', sid: 'ses_4b7e9f0a2c', client_id: 'web', scope: 'openid profile email' }).token;
  const common = { issuer: ISSUER, audience: AUDIENCE, keys, leeway: LEEWAY };
  const uncached = createVerifier({ ...common, cache: false });
  const revoked = new Set(['ses_revoked_1', 'ses_revoked_2']);
  const cached = createVerifier({ ...common, isRevoked: (claims) => revoked.has(claims.sid as string) });

  const fastSign = createSigner({ key: privatePem, algorithm: alg, kid: key.kid, header: { alg, typ: 'at+jwt' }, noTimestamp: true });
  const fastVerify = createFastVerifier({
    key: publicPem,
    algorithms: [alg],
    cache: false,
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    checkTyp: 'at+jwt',
    requiredClaims: ['exp', 'sub'],
    clockTolerance: LEEWAY * 1000,
  });
  const joseOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: [alg],
    typ: 'at+jwt',
    clockTolerance: LEEWAY,
    requiredClaims: ['exp', 'sub'],
  };
  const jwtSignOptions: jsonwebtoken.SignOptions = {
    algorithm: alg as jsonwebtoken.Algorithm,
    keyid: key.kid,
    header: { alg, typ: 'at+jwt' },
  };
  const jwtVerifyOptions: jsonwebtoken.VerifyOptions = {
    algorithms: [alg as jsonwebtoken.Algorithm],
    issuer: ISSUER,
    audience: AUDIENCE,
    clockTolerance: LEEWAY,
  };
  const input = { sub: 'user_8c1f2a9d', sid: 'ses_4b7e9f0a2c', client_id: 'web', scope: 'openid profile email' };
  const raw = { sign: rawSign(key, claimsNow), verify: rawVerify(key) };

  const all: Subject[] = [
    { alg, op: 'sign', impl: 'tessera', body: { sync: () => issuer.issue(input).token } },
    { alg, op: 'sign', impl: 'raw', body: { sync: raw.sign } },
    { alg, op: 'sign', impl: 'fast-jwt', body: { sync: () => fastSign(claimsNow()) } },
    {
      alg,
      op: 'sign',
      impl: 'jose',
      body: { async: () => new SignJWT(claimsNow()).setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey) },
    },
    { alg, op: 'sign', impl: 'jsonwebtoken', body: { sync: () => jsonwebtoken.sign(claimsNow(), key.privateKey, jwtSignOptions) } },
    { alg, op: 'verify', impl: 'tessera', body: { sync: () => uncached.verify(token) } },
    { alg, op: 'verify', impl: 'tessera-cached', body: { sync: () => cached.verify(token) } },
    { alg, op: 'verify', impl: 'raw', body: { sync: () => raw.verify(token) } },
    { alg, op: 'verify', impl: 'fast-jwt', body: { sync: () => fastVerify(token) } },
    { alg, op: 'verify', impl: 'jose', body: { async: () => jwtVerify(token, key.key, joseOptions) } },
    { alg, op: 'verify', impl: 'jsonwebtoken', body: { sync: () => jsonwebtoken.verify(token, key.key, jwtVerifyOptions) } },
  ];
  const subjects = all.filter((s) => !UNSUPPORTED.has(`${s.impl} ${s.alg}`));

  // Every implementation must produce a token every other one accepts, and accept ours: a
  // benchmark of something that fails is worthless.
  for (const s of subjects.filter((x) => x.op === 'sign')) {
    const signed = (await run(s.body)) as string;
    uncached.verify(signed);
    raw.verify(signed);
    fastVerify(signed);
    await jwtVerify(signed, key.key, joseOptions);
    if (!UNSUPPORTED.has(`jsonwebtoken ${alg}`)) jsonwebtoken.verify(signed, key.key, jwtVerifyOptions);
  }
  for (const s of subjects.filter((x) => x.op === 'verify')) await run(s.body);
  return { subjects, tokenBytes: Buffer.byteLength(token) };
}

function run(body: Body): unknown {
  return 'sync' in body ? body.sync() : body.async();
}

// ---------------------------------------------------------------- timing

let sink: unknown;

/** Runs `body` `iterations` times; returns the elapsed wall time in µs. */
async function time(body: Body, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  if ('sync' in body) {
    const f = body.sync;
    for (let i = 0; i < iterations; i++) sink = f();
  } else {
    const f = body.async;
    for (let i = 0; i < iterations; i++) sink = await f();
  }
  return Number(process.hrtime.bigint() - start) / 1000;
}

/** Iterations of one pass: SLICE_MS / PASSES of this implementation's own speed (so slow ones don't eat the budget). */
async function calibrate(subject: Subject): Promise<number> {
  let n = 4;
  for (;;) {
    const elapsed = await time(subject.body, n);
    if (elapsed > 10_000 || n >= 1 << 20) return Math.max(4, Math.round((SLICE_MS * 1000) / PASSES / (elapsed / n)));
    n *= 2;
  }
}

let seed = 0x7e55e7a;
/** Fisher–Yates with a fixed-seed LCG. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// A minor GC between timed passes, so that garbage left by one implementation is not collected
// on the next one's time. `--expose-gc` set at run time, since `tsx bench/tokens.ts` takes no flags.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
function collectGarbage(): void {
  gc({ type: 'minor' });
}

// ---------------------------------------------------------------- main

const started = Date.now();
const groups: { alg: Alg; op: Op; subjects: Subject[] }[] = [];
const iterations = new Map<Subject, number>();
const tokenBytes = new Map<Alg, number>();
for (const alg of ALGS) {
  const { subjects, tokenBytes: bytes } = await subjectsFor(alg);
  tokenBytes.set(alg, bytes);
  for (const op of ['sign', 'verify'] as const) groups.push({ alg, op, subjects: subjects.filter((s) => s.op === op) });
  for (const s of subjects) iterations.set(s, await calibrate(s));
}

// Per implementation, per measured round, the µs/op of each pass (pass i of every implementation
// in a group ran within the same few tens of milliseconds).
const samples = new Map<Subject, number[][]>();
for (let round = -1; round < ROUNDS; round++) {
  for (const group of groups) {
    const passes = new Map<Subject, number[]>();
    for (let pass = 0; pass < PASSES; pass++) {
      // A fresh order every pass (seeded, so runs are alike): each implementation runs first, last
      // and after each of the others, instead of always after the same neighbour.
      for (const subject of shuffled(group.subjects)) {
        const count = iterations.get(subject) as number;
        collectGarbage(); // nobody pays for the previous implementation's garbage
        passes.set(subject, [...(passes.get(subject) ?? []), (await time(subject.body, count)) / count]);
      }
    }
    if (round < 0) continue; // warm-up
    for (const [subject, xs] of passes) samples.set(subject, [...(samples.get(subject) ?? []), xs]);
  }
  process.stderr.write(round < 0 ? 'warm-up done\n' : `round ${round + 1}/${ROUNDS}\n`);
}
if (sink === undefined) throw new Error('unreachable: keeps the timed results alive');

const subjectOf = (alg: Alg, op: Op, impl: Impl) =>
  groups.find((g) => g.alg === alg && g.op === op)?.subjects.find((s) => s.impl === impl) as Subject;

/** µs/op: the median of the rounds, each round being the median of its passes (a burst from another process moves neither). */
function usPerOp(subject: Subject): number {
  return median(roundsOf(subject));
}

/** A subject's µs/op in each round: the median of that round's passes. */
function roundsOf(subject: Subject): number[] {
  return (samples.get(subject) ?? []).map(median);
}

/**
 * `a`'s time over `b`'s, paired: the ratio of the two in each pass (run side by side), median
 * over the passes of a round, then over the rounds. Drift between rounds cancels out.
 */
function pairedRatio(a: Subject, b: Subject): number {
  const bs = samples.get(b) ?? [];
  return median((samples.get(a) ?? []).map((passes, r) => paired(passes, bs[r] as number[])));
}

interface Row {
  alg: Alg;
  impl: Impl;
  op: Op;
  us_per_op: number;
}
const rows: Row[] = [];
const table = [['alg', 'op', 'impl', 'µs/op', 'ops/s', '× raw', '±']];
for (const group of groups) {
  const raw = subjectOf(group.alg, group.op, 'raw');
  for (const s of group.subjects) {
    const us = usPerOp(s);
    rows.push({ alg: s.alg, impl: s.impl, op: s.op, us_per_op: Number(us.toFixed(3)) });
    // Half the interquartile range of the rounds, relative to the median: how noisy the row is.
    const spread = halfIqr(roundsOf(s)) / us;
    table.push([
      s.alg,
      s.op,
      s.impl,
      us.toFixed(2),
      Math.round(1e6 / us).toLocaleString('en-US'),
      pairedRatio(s, raw).toFixed(2),
      `${(spread * 100).toFixed(1)}%`,
    ]);
  }
}
console.log(
  `\nTokens: sign and verify, median of ${ROUNDS} rounds (each the median of ${PASSES} interleaved passes); × raw paired per pass; ± = half IQR of the rounds (node ${process.version})`,
);
for (const line of plainTable(table, { left: [0, 1, 2], group: (row) => `${row[0]} ${row[1]}` })) console.log(line);
console.log(`\nToken size (Tessera, same claims for all): ${ALGS.map((a) => `${a} ${tokenBytes.get(a)} B`).join(', ')}`);

const targets: [string, boolean][] = [];
const ratioTarget = (alg: Alg, op: Op, impl: Impl, versus: Impl, max: number, label: string) => {
  const ratio = pairedRatio(subjectOf(alg, op, impl), subjectOf(alg, op, versus));
  targets.push([`${label} ≤ ${max}× ${versus}: ${ratio.toFixed(3)}×`, ratio <= max]);
};
for (const alg of (['RS256', 'ES256', 'EdDSA'] as const).filter((a) => ALGS.includes(a))) {
  ratioTarget(alg, 'verify', 'tessera', 'raw', 1.05, `${alg} verify (cache miss)`);
  ratioTarget(alg, 'verify', 'tessera', 'fast-jwt', 1.05, `${alg} verify (cache miss)`);
}
if (ALGS.includes('HS256')) ratioTarget('HS256', 'verify', 'tessera', 'raw', 1.3, 'HS256 verify (cache miss)');
for (const alg of ALGS) {
  const us = usPerOp(subjectOf(alg, 'verify', 'tessera-cached'));
  targets.push([`${alg} verify (cache hit, revocation hook included) ≤ 3 µs: ${us.toFixed(2)} µs`, us <= 3]);
}
for (const alg of ALGS) ratioTarget(alg, 'sign', 'tessera', 'raw', 1.1, `${alg} sign`);
console.log('\nTargets:');
for (const [label, ok] of targets) console.log(`  ${ok ? 'ok  ' : 'MISS'} ${label}`);

// A partial run (BENCH_ALGS) prints its table but leaves the full results file alone.
const out = writeResults('tokens', rows, { defaultDir: RESULTS_DIR, partial: ALGS.length !== ALL_ALGS.length, indent: 0 });
console.log(`\nWrote ${out} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
