import { describe, expect, it } from 'vitest';
import { charts } from './charts.js';
import { addedCpu } from './figures.js';
import { factor, fmtBytes, fmtMs, fmtPct, fmtRps, fmtTimes, fmtUs } from './format.js';
import { fmtCost, pairedGap, spread, withinNoise } from './noise.js';
import { sections } from './report.js';
import type { BenchResults, HttpRow, Measured, MicroRow } from './types.js';
import { headline, judgeLess, lessWins, listing, verdicts } from './verdicts.js';

/** Three rounds around `x`, `jitter` apart: the per-round figures a row's median comes from. */
const around = (x: number, jitter: number) => [x - jitter, x, x + jitter];

/** A run's figures, fixed: the numbers every case below starts from. Three rounds, each figure within ±1% across them. */
function fixture(): Measured {
  const http: HttpRow[] = [
    {
      id: 'auth-baseline',
      label: 'auth, no auth',
      kind: 'baseline',
      server: 'auth',
      baseline: 'auth-baseline',
      rps: 10_000,
      roundsRps: around(10_000, 100),
      ratio: 1,
      serverCpuUs: 50,
      storeCpuUs: 0,
      roundsCpuUs: around(50, 0.5),
    },
    {
      id: 'cookie-sqlite',
      label: 'cookie session, SQLite',
      kind: 'cookie',
      server: 'auth',
      backend: 'sqlite',
      baseline: 'auth-baseline',
      rps: 7_000,
      roundsRps: [6_900, 7_000, 7_100],
      ratio: 0.7,
      serverCpuUs: 70,
      storeCpuUs: 0,
      roundsCpuUs: [69, 70, 71],
    },
    {
      id: 'cookie-redis',
      label: 'cookie session, Redis',
      kind: 'cookie',
      server: 'auth',
      backend: 'redis',
      baseline: 'auth-baseline',
      rps: 5_000,
      roundsRps: [4_900, 5_000, 5_100],
      ratio: 0.5,
      serverCpuUs: 90,
      storeCpuUs: 20,
      roundsCpuUs: [109, 110, 111],
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
      roundsRps: around(30_000, 300),
      ratio: 1,
      serverCpuUs: 30,
      storeCpuUs: 0,
      roundsCpuUs: around(30, 0.5),
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
      roundsRps: [26_800, 27_000, 27_100],
      ratio: 0.9,
      serverCpuUs: 33,
      storeCpuUs: 0,
      roundsCpuUs: [32.5, 33, 33.5],
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
      roundsRps: [5_950, 6_000, 6_100],
      ratio: 0.2,
      serverCpuUs: 150,
      storeCpuUs: 0,
      roundsCpuUs: [149, 150, 151],
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
      roundsRps: [23_800, 24_000, 24_300],
      ratio: 0.8,
      serverCpuUs: 40,
      storeCpuUs: 0,
      roundsCpuUs: [39.5, 40, 40.5],
    },
  ];
  const op = (wall: number, cpu: number, jitter: number) => ({
    wallUs: wall,
    roundsWallUs: around(wall, jitter),
    cpuUs: cpu,
    roundsCpuUs: around(cpu, jitter),
  });
  const micro: MicroRow[] = [
    { id: 'verify-HS256', label: 'verify HS256, uncached', kind: 'verify', alg: 'HS256', ...op(5, 5, 0.1) },
    { id: 'verify-ES256', label: 'verify ES256, uncached', kind: 'verify', alg: 'ES256', ...op(60, 60, 1) },
    { id: 'verify-cached', label: 'verify ES256, cached', kind: 'verify-cached', alg: 'ES256', ...op(1, 1, 0.02) },
    { id: 'lookup-memory', label: 'session lookup, memory', kind: 'lookup', backend: 'memory', ...op(3, 3, 0.1) },
    {
      id: 'lookup-redis',
      label: 'session lookup, Redis',
      kind: 'lookup',
      backend: 'redis',
      wallUs: 120,
      roundsWallUs: around(120, 2),
      cpuUs: 25,
      storeCpuUs: 10,
      roundsCpuUs: around(35, 1),
    },
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
const http = (m: Measured, id: string) => m.http.find((r) => r.id === id) as HttpRow;
const micro = (m: Measured, id: string) => m.micro.find((r) => r.id === id) as MicroRow;
const results = (m: Measured): BenchResults => ({ ...m, headline: headline(m), verdicts: verdicts(m) });

describe('verdicts: a winner only outside the noise', () => {
  it('names the winner of a clear gap, with the ± its rounds give', () => {
    expect(line(fixture(), 'Req/s kept')).toEqual({
      question: 'Req/s kept on a protected route (each vs its own server with no auth)',
      sessions: 'SQLite: 70.0% ± 0.3 points',
      jwt: 'ES256, cached: 90.0% ± 0.4 points',
      winner: 'JWT',
      margin: '20.0 ± 0.7 points more',
    });
    expect(texts(fixture())).toContain(
      "Throughput of a protected route, as a share of the same server's no-auth route: behind a cached JWT (ES256, best of 1) the resource service keeps 90.0% ± 0.4 points; " +
        'behind a cookie session (SQLite, best of 2) the auth server keeps 70.0% ± 0.3 points: JWTs keep 20.0 ± 0.7 points more.',
    );
    expect(line(fixture(), 'CPU added per request by')).toMatchObject({ winner: 'JWT', sessions: 'SQLite: 20.0 ± 0.50 µs' });
  });

  // The bug this pins: a gap smaller than the round-to-round spread was named a win (0.93 µs vs 0.00 µs with ~10 µs of noise).
  it('calls a gap inside the spread across rounds "no measurable difference", not a win', () => {
    const m = fixture();
    // SQLite's CPU swings by ±20 µs from round to round: its 17 µs gap over the cached JWT is noise.
    http(m, 'cookie-sqlite').roundsCpuUs = [50, 70, 90];
    expect(line(m, 'CPU added per request by')).toEqual({
      question: 'CPU added per request by authentication (server + stores)',
      sessions: 'SQLite: 20.0 ± 19.5 µs',
      jwt: 'ES256, cached: 3.00 ± 0.00 µs',
      winner: 'tie',
      margin: 'no measurable difference on this machine (within ±19.5 µs)',
    });
    // The same for shares: SQLite at 88% ± 3 points against the JWT's 90%.
    Object.assign(http(m, 'cookie-sqlite'), { ratio: 0.88, roundsRps: [8_400, 8_800, 9_200] });
    expect(line(m, 'Req/s kept')).toMatchObject({
      winner: 'tie',
      margin: expect.stringMatching(/^no measurable difference on this machine \(within ±[\d.]+ points\)$/),
    });
    expect(texts(m).find((t) => t.startsWith('Throughput of a protected route'))).toMatch(
      /: no measurable difference on this machine \(within ±[\d.]+ points\)\.$/,
    );
  });

  it('takes the cached JWT rows, which do the same work, as a floor of the noise', () => {
    const m = fixture();
    // A second cached row, 9 µs dearer than the first for the same work: every per-request ± is at least 4.5 µs.
    m.http.push({ ...http(m, 'jwt-ES256-cached'), id: 'jwt-HS256-cached', alg: 'HS256', serverCpuUs: 42, roundsCpuUs: [41.5, 42, 42.5] });
    expect(addedCpu(http(m, 'cookie-redis'), m.http)).toEqual({ value: 60, pm: 4.5 });
  });

  // The bug this pins: "120.4% of no-auth (EdDSA cached) → JWTs win by 22.7 points".
  it('reads a share above 100% as indistinguishable from no auth, and counts it as 100%', () => {
    const m = fixture();
    Object.assign(http(m, 'jwt-ES256-cached'), { ratio: 1.2, roundsRps: [35_640, 36_000, 36_360] });
    const h = line(m, 'Req/s kept');
    expect(h?.jwt).toBe('ES256, cached: indistinguishable from no auth (measured 120.0% ± 0.0 points)');
    expect(h).toMatchObject({ winner: 'JWT', margin: '30.0 ± 0.3 points more' });
    // Both sides within noise of no auth: no winner.
    Object.assign(http(m, 'cookie-sqlite'), { ratio: 0.99, roundsRps: [9_500, 9_900, 10_300] });
    expect(line(m, 'Req/s kept')).toMatchObject({ winner: 'tie', margin: 'both indistinguishable from no auth' });
    expect(line(m, 'Req/s kept')?.sessions).toMatch(/^SQLite: indistinguishable from no auth \(measured 99\.0% ± [\d.]+ points\)$/);
  });

  // The bug this pins: cached ES256 and EdDSA shown as "0.00 µs" after being clamped at zero.
  it('writes a cost at or below its baseline as "≤ noise", never as 0.00', () => {
    const m = fixture();
    Object.assign(http(m, 'jwt-ES256-cached'), { serverCpuUs: 29.5, roundsCpuUs: [29, 29.5, 30] });
    expect(addedCpu(http(m, 'jwt-ES256-cached'), m.http)).toEqual({ value: -0.5, pm: 0 });
    expect(line(m, 'CPU added per request by')).toEqual({
      question: 'CPU added per request by authentication (server + stores)',
      sessions: 'SQLite: 20.0 ± 0.50 µs',
      jwt: 'ES256, cached: ≤ noise (±0.00 µs)',
      winner: 'JWT',
      margin: '20.0 ± 0.50 µs less',
    });
    const perRequest = texts(m).find((t) => t.startsWith('Per HTTP request, authentication adds')) as string;
    expect(perRequest).toContain('≤ noise (±0.00 µs) (ES256)');
    expect(perRequest).not.toContain('0.00 µs (ES256)');
    expect(
      results(m)
        .headline.map((h) => `${h.sessions} ${h.jwt}`)
        .join(' '),
    ).not.toMatch(/(^|[^±])0\.00 µs/);
  });

  it('names no winner when the run has one round and nothing else to tell noise by', () => {
    const m = fixture();
    m.settings.rounds = 1;
    for (const r of m.http)
      if (r.roundsCpuUs) Object.assign(r, { roundsCpuUs: r.roundsCpuUs.slice(1, 2), roundsRps: r.roundsRps?.slice(1, 2) });
    expect(line(m, 'CPU added per request by')).toMatchObject({ winner: '—', margin: 'one round: no spread to tell the gap from noise' });
    expect(line(m, 'Req/s kept')?.winner).toBe('—');
  });

  it('qualifies every timed verdict of a --quick run as rough', () => {
    const m = fixture();
    m.settings.quick = true;
    const h = headline(m);
    for (const q of ['CPU added per request by', 'Req/s kept', 'CPU added per request without', 'Logout']) {
      expect(h.find((x) => x.question.startsWith(q))?.margin, q).toMatch(/; rough \(--quick\)$/);
    }
    expect(texts(m)).toContain(
      'This is a --quick run (3 rounds of 3 s per row): every verdict in it is rough; run `tessera bench` without --quick for figures to quote.',
    );
  });
});

describe('verdicts: the headline and the sections agree', () => {
  // The bug this pins: the headline said an ES256 verify beats a Redis lookup (in process) while the
  // CPU-per-request table showed the uncached ES256 route costing more than the Redis cookie route.
  it('compares uncached ES256 with the session per HTTP request, the measure of the CPU-per-request table', () => {
    const m = fixture();
    expect(line(m, 'CPU added per request without')).toEqual({
      question: 'CPU added per request without the token cache: ES256 vs Redis session (server + stores)',
      sessions: '60.0 ± 0.50 µs',
      jwt: '120 ± 0.50 µs',
      winner: 'sessions',
      margin: '2.0× less (by 60.0 ± 0.00 µs)',
    });
    expect(texts(m)).toContain(
      "Per HTTP request (all the CPU the server and the stores spend beyond the same server's no-auth route: the measure of the headline and the CPU-per-request table), " +
        'a Redis cookie session adds 60.0 ± 0.50 µs, and an uncached JWT adds more for ES256 (120 ± 0.50 µs) and less for HS256 (10.0 ± 0.00 µs).',
    );
    expect(texts(m).some((t) => t.startsWith('The two measures disagree'))).toBe(false);
  });

  it('says where JWT loses in process, against the store the headline names', () => {
    expect(texts(fixture())).toContain(
      "In process (each call alone in a loop; for a lookup, the store server's CPU added), a Redis session lookup costs 35.0 ± 1.00 µs of CPU, " +
        'and an uncached verification costs more for ES256 and less for HS256: the usual claim that a JWT saves the CPU of a session lookup is false here, in process, for uncached ES256.',
    );
  });

  it('states both measures, and which one the headline uses, when they point opposite ways', () => {
    const m = fixture();
    Object.assign(micro(m, 'verify-ES256'), { cpuUs: 20, roundsCpuUs: [19, 20, 21] });
    const all = texts(m);
    expect(all).toContain(
      "In process (each call alone in a loop; for a lookup, the store server's CPU added), a Redis session lookup costs 35.0 ± 1.00 µs of CPU, " +
        'and an uncached verification costs less for HS256 and ES256.',
    );
    expect(all).toContain(
      'The two measures disagree for ES256 (cheaper than the lookup in process, dearer than the cookie session per request). ' +
        'They time different things: in process, the verification call and the lookup call alone; per request, everything each server and the stores spend on the request beyond no auth. ' +
        'The headline row uses the per-request figure.',
    );
    expect(line(m, 'CPU added per request without')?.winner).toBe('sessions');
  });

  it('calls an in-process gap inside its rounds’ spread no measurable difference', () => {
    const m = fixture();
    Object.assign(micro(m, 'verify-ES256'), { cpuUs: 37, roundsCpuUs: [30, 37, 44] });
    expect(texts(m).find((t) => t.startsWith('In process (each call'))).toMatch(/no measurable difference for ES256 \(within ±[\d.]+ µs\)/);
  });

  it('compares with PostgreSQL, then SQLite, when Redis was skipped', () => {
    const m = fixture();
    m.micro = m.micro.filter((r) => r.backend !== 'redis');
    m.http = m.http.filter((r) => r.backend !== 'redis');
    expect(line(m, 'CPU added per request without')?.question).toBe(
      'CPU added per request without the token cache: ES256 vs SQLite session (server + stores)',
    );
  });

  it('counts the lookup round trip against the verify in wall time', () => {
    expect(texts(fixture())).toContain(
      'In wall time the Redis lookup waits 120 ± 2.00 µs for its round trip, 2.0× the 60.0 ± 1.00 µs of an uncached ES256 verify: it costs less CPU, but the request waits longer.',
    );
  });
});

describe('verdicts: revocation, size, outage, stores', () => {
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

  it('says on which store logins were measured', () => {
    expect(texts(fixture())).toContain(
      'Refresh rotations reach 2,500/s (SQLite); password logins 50/s (measured on SQLite only; bound by argon2id): the fastest refresh is 50.0× a login.',
    );
  });

  it('names skipped stores with their reason instead of leaving them out', () => {
    expect(texts(fixture())).toContain(
      'cookie session, PostgreSQL: skipped (PostgreSQL at postgres://127.0.0.1:5432 cannot be used (ECONNREFUSED)).',
    );
  });

  it('has no winner where a side was not measured', () => {
    const m = fixture();
    m.outage = null;
    expect(line(m, 'Requests served')).toMatchObject({ winner: '—', sessions: 'skipped', jwt: 'skipped' });
  });
});

describe('the report', () => {
  // The bug this pins: "0 accepted after logout" sat in the p50 ms column.
  it('keeps the cookie revocation count out of the latency columns', () => {
    const table = sections(results(fixture())).find((s) => s.id === 'revocation')?.table;
    expect(table?.head).toEqual(['Verifier', 'logouts', 'p50 ms', 'p99 ms', 'max ms', 'after the logout']);
    expect(table?.rows[0]).toEqual(['cookie session (auth server)', '20', '—', '—', '—', 'next request: 0 of 20 accepted']);
    expect(table?.rows[1]?.slice(0, 5)).toEqual(['JWT verifier on the SSE feed', '100', '3.00', '12.0', '15.0']);
  });

  it('writes added CPU below the noise as "≤ noise" in the CPU-per-request table', () => {
    const m = fixture();
    Object.assign(http(m, 'jwt-ES256-cached'), { serverCpuUs: 29.5, roundsCpuUs: [29, 29.5, 30] });
    const rows = sections(results(m)).find((s) => s.id === 'route-cpu')?.table?.rows ?? [];
    expect(rows.find((r) => r[0] === 'JWT ES256, cached')?.[3]).toBe('≤ noise (±0.00)');
    expect(rows.find((r) => r[0] === 'cookie session, Redis')?.[3]).toBe('60.0 ± 0.50');
  });

  it('draws logins in a colour of their own, named in the legend', () => {
    const svg = charts(results(fixture())).find((c) => c.name === 'login-refresh')?.svg ?? '';
    expect(svg).toContain('password login');
    expect(svg).toContain('refresh rotation');
    expect(svg).not.toContain('#6b7280');
  });
});

describe('addedCpu', () => {
  it('is the row’s CPU (server + stores) over its baseline’s, negative when below it', () => {
    const m = fixture();
    expect(addedCpu(http(m, 'cookie-redis'), m.http)).toEqual({ value: 60, pm: 0.5 });
    expect(addedCpu({ ...http(m, 'cookie-sqlite'), serverCpuUs: 40 }, m.http)?.value).toBe(-10);
  });
});

describe('noise', () => {
  it('is half the range of the rounds, unknown for one round', () => {
    expect(spread([3, 9, 5])).toBe(3);
    expect(spread([4])).toBeUndefined();
    expect(pairedGap([10, 20, 30], [1, 2, 3])).toEqual({ value: 18, pm: 9 });
  });
  it('tells a gap from noise only outside its ±', () => {
    expect(withinNoise({ value: -2, pm: 2 })).toBe(true);
    expect(withinNoise({ value: 2.1, pm: 2 })).toBe(false);
    expect(fmtCost({ value: 0.93, pm: 4.8 })).toBe('≤ noise (±4.80)');
    expect(fmtCost({ value: -3, pm: undefined })).toBe('≤ noise');
    expect(fmtCost({ value: 12, pm: 1.5 })).toBe('12.0 ± 1.50');
  });
});

describe('judgeLess', () => {
  const judge = (s: number, j: number, pm: number | undefined) => judgeLess(s, j, { value: s - j, pm }, fmtUs, ' µs');
  it('gives the smaller figure the win when the gap is outside the noise', () => {
    expect(judge(30, 10, 2)).toEqual({ winner: 'JWT', margin: '3.0× less (by 20.0 ± 2.00 µs)' });
    expect(judge(10, 30, 2)).toEqual({ winner: 'sessions', margin: '3.0× less (by 20.0 ± 2.00 µs)' });
  });
  it('states the gap, not a factor, when the smaller figure is itself inside the noise', () => {
    expect(judge(9, 0.5, 1)).toEqual({ winner: 'JWT', margin: '8.50 ± 1.00 µs less' });
  });
  it('is no measurable difference inside the noise, and no verdict without a spread', () => {
    expect(judge(0.93, 0, 4.8)).toEqual({ winner: 'tie', margin: 'no measurable difference on this machine (within ±4.80 µs)' });
    expect(judge(30, 10, undefined).winner).toBe('—');
  });
});

describe('lessWins (exact figures)', () => {
  const us = (x: number) => `${fmtUs(x)} µs`;
  it('gives the smaller figure the win, by a factor', () => {
    expect(lessWins(30, 10, us)).toEqual({ winner: 'JWT', margin: '3.0× less' });
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
