import { describe, expect, it } from 'vitest';
import { factor, fmtBytes, fmtMs, fmtPct, fmtRps, fmtTimes, fmtUs } from './format.js';
import type { HttpRow, Measured, MicroRow } from './types.js';
import { addedCpu, headline, lessWins, listing, verdicts } from './verdicts.js';

/** A run's figures, fixed: the numbers every case below starts from. */
function fixture(): Measured {
  const http: HttpRow[] = [
    {
      id: 'auth-baseline',
      label: 'auth, no auth',
      kind: 'baseline',
      server: 'auth',
      baseline: 'auth-baseline',
      rps: 10_000,
      ratio: 1,
      serverCpuUs: 50,
      storeCpuUs: 0,
    },
    {
      id: 'cookie-sqlite',
      label: 'cookie session, SQLite',
      kind: 'cookie',
      server: 'auth',
      backend: 'sqlite',
      baseline: 'auth-baseline',
      rps: 7_000,
      ratio: 0.7,
      serverCpuUs: 70,
      storeCpuUs: 0,
    },
    {
      id: 'cookie-redis',
      label: 'cookie session, Redis',
      kind: 'cookie',
      server: 'auth',
      backend: 'redis',
      baseline: 'auth-baseline',
      rps: 5_000,
      ratio: 0.5,
      serverCpuUs: 90,
      storeCpuUs: 20,
    },
    {
      id: 'cookie-postgres',
      label: 'cookie session, PostgreSQL',
      kind: 'cookie',
      server: 'auth',
      backend: 'postgres',
      baseline: 'auth-baseline',
      skipped: 'PostgreSQL at postgres://127.0.0.1:5432 cannot be used (ECONNREFUSED)',
    },
    {
      id: 'resource-baseline',
      label: 'resource, no auth',
      kind: 'baseline',
      server: 'resource',
      baseline: 'resource-baseline',
      rps: 30_000,
      ratio: 1,
      serverCpuUs: 30,
      storeCpuUs: 0,
    },
    {
      id: 'jwt-ES256-cached',
      label: 'JWT ES256, cached',
      kind: 'jwt',
      server: 'resource',
      alg: 'ES256',
      cached: true,
      baseline: 'resource-baseline',
      rps: 27_000,
      ratio: 0.9,
      serverCpuUs: 33,
      storeCpuUs: 0,
    },
    {
      id: 'jwt-ES256-uncached',
      label: 'JWT ES256, uncached',
      kind: 'jwt',
      server: 'resource',
      alg: 'ES256',
      cached: false,
      baseline: 'resource-baseline',
      rps: 6_000,
      ratio: 0.2,
      serverCpuUs: 150,
      storeCpuUs: 0,
    },
    {
      id: 'jwt-HS256-uncached',
      label: 'JWT HS256, uncached',
      kind: 'jwt',
      server: 'resource',
      alg: 'HS256',
      cached: false,
      baseline: 'resource-baseline',
      rps: 24_000,
      ratio: 0.8,
      serverCpuUs: 40,
      storeCpuUs: 0,
    },
  ];
  const micro: MicroRow[] = [
    { id: 'verify-HS256', label: 'verify HS256, uncached', kind: 'verify', alg: 'HS256', wallUs: 5, cpuUs: 5 },
    { id: 'verify-ES256', label: 'verify ES256, uncached', kind: 'verify', alg: 'ES256', wallUs: 60, cpuUs: 60 },
    { id: 'verify-cached', label: 'verify ES256, cached', kind: 'verify-cached', alg: 'ES256', wallUs: 1, cpuUs: 1 },
    { id: 'lookup-memory', label: 'session lookup, memory', kind: 'lookup', backend: 'memory', wallUs: 3, cpuUs: 3 },
    { id: 'lookup-redis', label: 'session lookup, Redis', kind: 'lookup', backend: 'redis', wallUs: 120, cpuUs: 25, storeCpuUs: 10 },
  ];
  return {
    schema: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    elapsedS: 200,
    command: 'tessera bench --out ./tessera-bench',
    machine: { cpu: 'Test CPU', cores: 2, node: 'v20.0.0', platform: 'linux x64', loadBefore: 0.1, loadAfter: 0.2 },
    settings: {
      quick: false,
      connections: 10,
      warmupS: 1,
      durationS: 3,
      rounds: 3,
      loginWorkers: 4,
      revocationSamples: 100,
      outageRequests: 1000,
      microSliceMs: 150,
      microRounds: 7,
    },
    services: {
      postgres: { where: 'postgres://127.0.0.1:5432', skipped: 'ECONNREFUSED' },
      redis: { where: 'redis://127.0.0.1:6379', skipped: null },
    },
    budgets: { headerBytes: 8192, cookieBytes: 4096, revocationP99Ms: 100 },
    http,
    micro,
    revocation: [
      { id: 'revocation-sse', label: 'JWT verifier on the SSE feed', feed: 'sse', samples: 100, p50Ms: 3, p99Ms: 12, maxMs: 15 },
      { id: 'revocation-redis', label: 'JWT verifier on the Redis feed', feed: 'redis', samples: 100, p50Ms: 2, p99Ms: 140, maxMs: 150 },
    ],
    cookieRevocation: { samples: 20, acceptedAfterLogout: 0 },
    sizes: [
      { id: 'cookie', label: 'session cookie', kind: 'cookie', bytes: 80, headerBytes: 88 },
      { id: 'jwt-ES256', label: 'ES256 token', kind: 'jwt', alg: 'ES256', withProfile: false, bytes: 500, headerBytes: 522 },
      {
        id: 'jwt-ES256-profile',
        label: 'ES256 token, email + roles',
        kind: 'jwt',
        alg: 'ES256',
        withProfile: true,
        bytes: 600,
        headerBytes: 622,
      },
    ],
    throughput: [
      { id: 'login-sqlite', label: 'password logins (SQLite)', op: 'login', backend: 'sqlite', rps: 50 },
      { id: 'refresh-sqlite', label: 'refresh rotations (SQLite)', op: 'refresh', backend: 'sqlite', rps: 2_500 },
    ],
    outage: { requests: 1000, jwtOk: 1000, cookieOk: 0 },
  };
}

const texts = (m: Measured) => verdicts(m).map((v) => v.text);
const line = (m: Measured, start: string) => headline(m).find((h) => h.question.startsWith(start));

describe('verdicts', () => {
  it('says a cached JWT keeps more of the no-auth throughput, by the measured points', () => {
    expect(texts(fixture())).toContain(
      "Throughput of a protected route, as a share of the same server's no-auth route: behind a cached JWT the resource service keeps 90.0% (ES256, best of 1); " +
        'behind a cookie session the auth server keeps 70.0% (SQLite, best of 2): JWTs win by 20.0 points.',
    );
  });

  // The usual claim for JWTs, false on these figures: an uncached ES256 verify (60 µs) costs more
  // CPU than a Redis session lookup (25 µs here + 10 µs in redis-server).
  it('says where JWT loses: an uncached ES256 verify costs more CPU than a Redis lookup', () => {
    expect(texts(fixture())).toContain(
      'The usual claim that a JWT saves the CPU of a session lookup is false here for uncached ES256: each verification costs more CPU than a Redis session lookup ' +
        '(35.0 µs of CPU, this process and the store server together); it holds for HS256.',
    );
    expect(line(fixture(), 'CPU per check without a cache')).toEqual({
      question: 'CPU per check without a cache: ES256 verify vs Redis session lookup',
      sessions: '35.0 µs',
      jwt: '60.0 µs',
      winner: 'sessions',
      margin: '1.71× less',
    });
  });

  it('says so when every uncached verification is cheaper than the lookup', () => {
    const m = fixture();
    (m.micro[1] as MicroRow).cpuUs = 20;
    expect(texts(m)).toContain(
      'Every uncached verification (HS256 and ES256) costs less CPU than a Redis session lookup (35.0 µs of CPU, this process and the store server together).',
    );
    expect(line(m, 'CPU per check')?.winner).toBe('JWT');
  });

  it('compares with PostgreSQL, then SQLite, when Redis was skipped', () => {
    const m = fixture();
    m.micro = m.micro.filter((r) => r.backend !== 'redis');
    m.micro.push({ id: 'lookup-sqlite', label: 'session lookup, SQLite', kind: 'lookup', backend: 'sqlite', wallUs: 12, cpuUs: 12 });
    expect(line(m, 'CPU per check')?.question).toBe('CPU per check without a cache: ES256 verify vs SQLite session lookup');
  });

  it('counts the lookup round trip against the verify in wall time', () => {
    expect(texts(fixture())).toContain(
      'In wall time the Redis lookup waits 120 µs for its round trip, 2.0× the 60.0 µs of an uncached ES256 verify: it costs less CPU, but the request waits longer.',
    );
    const m = fixture();
    (m.micro[1] as MicroRow).cpuUs = 20;
    expect(texts(m)).toContain(
      'In wall time the Redis lookup waits 120 µs for its round trip, 2.0× the 60.0 µs of an uncached ES256 verify: it costs more in both.',
    );
  });

  it('gives revocation to sessions, and measures each feed against the 100 ms goal', () => {
    const all = texts(fixture());
    expect(all).toContain('A cookie session is refused on the very next request after its logout (20 of 20 refused).');
    expect(all).toContain(
      'A verifier on the SSE feed refuses a logged-out token after p50 3.00 ms, p99 12.0 ms (100 logouts): within the 100 ms goal; until then the token still works there.',
    );
    expect(all).toContain(
      'A verifier on the Redis feed refuses a logged-out token after p50 2.00 ms, p99 140 ms (100 logouts): over the 100 ms goal by 40.0 ms; until then the token still works there.',
    );
    expect(line(fixture(), 'Logout')).toMatchObject({ winner: 'sessions', margin: 'JWT usable up to 140 ms longer (p99)' });
  });

  it('gives the outage to JWTs by the count of requests that still succeeded', () => {
    expect(line(fixture(), 'Requests served')).toEqual({
      question: 'Requests served with the auth server killed',
      sessions: '0/1000',
      jwt: '1000/1000',
      winner: 'JWT',
      margin: '1000 more requests',
    });
  });

  it('weighs tokens against the cookie and the budgets', () => {
    expect(line(fixture(), 'Credential size')).toMatchObject({ winner: 'sessions', margin: '7.5× less' });
    expect(texts(fixture())).toContain(
      'Every token fits both the 8,192 B header budget and a 4,096 B cookie; the largest uses 14.6% of the cookie.',
    );
    const m = fixture();
    m.sizes.push({
      id: 'big',
      label: 'RS256 token, 40 roles',
      kind: 'jwt',
      alg: 'RS256',
      withProfile: true,
      bytes: 5000,
      headerBytes: 5022,
    });
    expect(texts(m)).toContain('Every token fits the 8,192 B header budget, but RS256 token, 40 roles would not fit a 4,096 B cookie.');
  });

  it('names skipped stores with their reason instead of leaving them out', () => {
    expect(texts(fixture())).toContain(
      'cookie session, PostgreSQL: skipped (PostgreSQL at postgres://127.0.0.1:5432 cannot be used (ECONNREFUSED)).',
    );
  });

  it('calls a throughput gap under two points a tie', () => {
    const m = fixture();
    (m.http[1] as HttpRow).ratio = 0.89;
    expect(line(m, 'Req/s kept')).toMatchObject({ winner: 'tie', margin: '1.0 points' });
  });

  it('has no winner where a side was not measured', () => {
    const m = fixture();
    m.outage = null;
    expect(line(m, 'Requests served')).toMatchObject({ winner: '—', sessions: 'skipped', jwt: 'skipped' });
  });
});

describe('addedCpu', () => {
  it('is the row’s CPU (server + stores) over its baseline’s, never below zero', () => {
    const m = fixture();
    expect(addedCpu(m.http[2] as HttpRow, m.http)).toBe(60);
    expect(addedCpu({ ...(m.http[1] as HttpRow), serverCpuUs: 40 }, m.http)).toBe(0);
  });
});

describe('lessWins', () => {
  const us = (x: number) => `${fmtUs(x)} µs`;
  it('gives the smaller figure the win, by a factor', () => {
    expect(lessWins(30, 10, us)).toEqual({ winner: 'JWT', margin: '3.0× less' });
    expect(lessWins(10, 30, us)).toEqual({ winner: 'sessions', margin: '3.0× less' });
  });
  it('states a difference instead of an infinite factor when one side is zero', () => {
    expect(lessWins(0, 4, us)).toEqual({ winner: 'sessions', margin: '4.00 µs less' });
  });
  it('is a tie at zero each, or within 10%', () => {
    expect(lessWins(0, 0, us).winner).toBe('tie');
    expect(lessWins(100, 105, us).winner).toBe('tie');
  });
});

describe('format', () => {
  it('writes each kind of figure one way', () => {
    expect(fmtRps(12_345.6)).toBe('12,346');
    expect([fmtUs(0.844), fmtUs(41.27), fmtUs(1234.4)]).toEqual(['0.84', '41.3', '1,234']);
    expect(fmtMs(99.94)).toBe('99.9');
    expect(fmtPct(0.8734)).toBe('87.3%');
    expect([fmtTimes(1.04), fmtTimes(2.46)]).toEqual(['1.04×', '2.5×']);
    expect(fmtBytes(4096)).toBe('4,096 B');
    expect(factor(2, 8)).toBe(4);
    expect(listing(['a', 'b', 'c'])).toBe('a, b and c');
  });
});
