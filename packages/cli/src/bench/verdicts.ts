// The report's claims, derived from the figures of one run: who wins each comparison on this
// machine and by how much. Nothing here is fixed text about sessions or JWTs: every sentence is
// picked and filled in by comparing measured numbers, so a run on another machine (or one where
// a usual claim for JWTs is false) says so itself.
import { fmtBytes, fmtMs, fmtPct, fmtTimes, fmtUs } from './format.js';
import {
  BACKEND_NAMES,
  type Backend,
  type HeadlineRow,
  type HttpRow,
  type Measured,
  type MicroRow,
  type RevocationRow,
  type SizeRow,
  type Verdict,
} from './types.js';

/** Two shares of throughput closer than this (2 points) are a tie: the run-to-run noise of a shared machine is that large. */
export const TIE_POINTS = 0.02;
/** Two costs within this factor (10%) are a tie. */
export const TIE_FACTOR = 1.1;

type Measurable = { skipped?: string };
const ran = <T extends Measurable>(rows: readonly T[]): T[] => rows.filter((r) => r.skipped === undefined);

/** The element with the smallest `by`, or undefined. */
function least<T>(xs: readonly T[], by: (x: T) => number): T | undefined {
  let best: T | undefined;
  for (const x of xs) if (best === undefined || by(x) < by(best)) best = x;
  return best;
}
const most = <T>(xs: readonly T[], by: (x: T) => number) => least(xs, (x) => -by(x));

/** "a, b and c". */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const backendName = (b: Backend | undefined) => (b ? BACKEND_NAMES[b] : '');

/** CPU per request that authentication adds over the no-auth route of the same server: server process and stores. */
export function addedCpu(row: HttpRow, rows: readonly HttpRow[]): number | undefined {
  const base = rows.find((r) => r.id === row.baseline);
  if (row.serverCpuUs === undefined || base?.serverCpuUs === undefined) return undefined;
  const total = (r: HttpRow) => (r.serverCpuUs ?? 0) + (r.storeCpuUs ?? 0);
  return Math.max(0, total(row) - total(base));
}

const lookupCpu = (r: MicroRow) => (r.cpuUs ?? 0) + (r.storeCpuUs ?? 0);

/** The session store a "JWT instead of a session lookup" claim is usually made against: Redis, else PostgreSQL, else SQLite. */
function referenceLookup(micro: readonly MicroRow[]): MicroRow | undefined {
  const lookups = ran(micro).filter((r) => r.kind === 'lookup');
  for (const b of ['redis', 'postgres', 'sqlite', 'memory'] as const) {
    const r = lookups.find((x) => x.backend === b);
    if (r) return r;
  }
  return undefined;
}

/**
 * Who wins a comparison where less is better: a factor as the margin, or the difference written
 * with `unit` when the smaller figure is 0; a tie when both are 0 or within {@link TIE_FACTOR}.
 */
export function lessWins(sessions: number, jwt: number, unit: (x: number) => string): { winner: HeadlineRow['winner']; margin: string } {
  const hi = Math.max(sessions, jwt);
  const lo = Math.min(sessions, jwt);
  if (hi === 0 || (lo > 0 && hi / lo < TIE_FACTOR)) return { winner: 'tie', margin: `within ${fmtPct(TIE_FACTOR - 1)}` };
  return { winner: jwt < sessions ? 'JWT' : 'sessions', margin: lo > 0 ? `${fmtTimes(hi / lo)} less` : `${unit(hi - lo)} less` };
}

const skippedRow = (question: string, sessions: string, jwt: string): HeadlineRow => ({
  question,
  sessions,
  jwt,
  winner: '—',
  margin: '—',
});

// ---------------------------------------------------------------- the headline table

function throughputLine(m: Measured): HeadlineRow {
  const q = 'Req/s kept on a protected route (each vs its own server with no auth)';
  const cookie = most(
    ran(m.http).filter((r) => r.kind === 'cookie' && r.ratio !== undefined),
    (r) => r.ratio as number,
  );
  const jwt = most(
    ran(m.http).filter((r) => r.kind === 'jwt' && r.cached && r.ratio !== undefined),
    (r) => r.ratio as number,
  );
  if (!cookie || !jwt)
    return skippedRow(q, cookie ? fmtPct(cookie.ratio as number) : 'skipped', jwt ? fmtPct(jwt.ratio as number) : 'skipped');
  const s = cookie.ratio as number;
  const j = jwt.ratio as number;
  const gap = Math.abs(s - j);
  return {
    question: q,
    sessions: `${fmtPct(s)} (${backendName(cookie.backend)})`,
    jwt: `${fmtPct(j)} (${jwt.alg}, cached)`,
    winner: gap < TIE_POINTS ? 'tie' : j > s ? 'JWT' : 'sessions',
    margin: `${(gap * 100).toFixed(1)} points`,
  };
}

function addedCpuLine(m: Measured): HeadlineRow {
  const q = 'CPU added per request by authentication (server + stores)';
  const withCpu = (kind: HttpRow['kind'], cachedOnly: boolean) =>
    ran(m.http)
      .filter((r) => r.kind === kind && (!cachedOnly || r.cached))
      .map((r) => ({ r, us: addedCpu(r, m.http) }))
      .filter((x): x is { r: HttpRow; us: number } => x.us !== undefined);
  const cookie = least(withCpu('cookie', false), (x) => x.us);
  const jwt = least(withCpu('jwt', true), (x) => x.us);
  if (!cookie || !jwt) return skippedRow(q, cookie ? `${fmtUs(cookie.us)} µs` : 'skipped', jwt ? `${fmtUs(jwt.us)} µs` : 'skipped');
  return {
    question: q,
    sessions: `${fmtUs(cookie.us)} µs (${backendName(cookie.r.backend)})`,
    jwt: `${fmtUs(jwt.us)} µs (${jwt.r.alg}, cached)`,
    ...lessWins(cookie.us, jwt.us, (x) => `${fmtUs(x)} µs`),
  };
}

function uncachedLine(m: Measured): HeadlineRow {
  const lookup = referenceLookup(m.micro);
  const verify = ran(m.micro).find((r) => r.kind === 'verify' && r.alg === 'ES256');
  const q = `CPU per check without a cache: ES256 verify vs ${lookup ? backendName(lookup.backend) : 'store'} session lookup`;
  if (!lookup || verify?.cpuUs === undefined)
    return skippedRow(q, lookup ? `${fmtUs(lookupCpu(lookup))} µs` : 'skipped', verify?.cpuUs ? `${fmtUs(verify.cpuUs)} µs` : 'skipped');
  return {
    question: q,
    sessions: `${fmtUs(lookupCpu(lookup))} µs`,
    jwt: `${fmtUs(verify.cpuUs)} µs`,
    ...lessWins(lookupCpu(lookup), verify.cpuUs, (x) => `${fmtUs(x)} µs`),
  };
}

function revocationLine(m: Measured): HeadlineRow {
  const q = 'Logout → credential refused';
  const feeds = ran(m.revocation).filter((r) => r.p99Ms !== undefined);
  const worst = most(feeds, (r) => r.p99Ms as number);
  const c = m.cookieRevocation;
  const sessions = c ? `next request (${c.acceptedAfterLogout}/${c.samples} accepted after logout)` : 'skipped';
  if (!c || !worst) return skippedRow(q, sessions, worst ? `p99 ${fmtMs(worst.p99Ms as number)} ms` : 'skipped');
  const jwt = `p99 ${listing(feeds.map((r) => `${fmtMs(r.p99Ms as number)} ms (${r.feed === 'sse' ? 'SSE' : 'Redis'})`))}`;
  if (c.acceptedAfterLogout > 0) return { question: q, sessions, jwt, winner: '—', margin: 'sessions accepted a request after logout' };
  return { question: q, sessions, jwt, winner: 'sessions', margin: `JWT usable up to ${fmtMs(worst.p99Ms as number)} ms longer (p99)` };
}

function sizeLine(m: Measured): HeadlineRow {
  const q = 'Credential size per request';
  const cookie = m.sizes.find((s) => s.kind === 'cookie');
  const token = m.sizes.find((s) => s.kind === 'jwt' && s.alg === 'ES256' && s.withProfile);
  if (!cookie || !token) return skippedRow(q, cookie ? fmtBytes(cookie.bytes) : 'skipped', token ? fmtBytes(token.bytes) : 'skipped');
  return {
    question: q,
    sessions: `${fmtBytes(cookie.bytes)} (cookie)`,
    jwt: `${fmtBytes(token.bytes)} (ES256, email + roles)`,
    ...lessWins(cookie.bytes, token.bytes, fmtBytes),
  };
}

function outageLine(m: Measured): HeadlineRow {
  const q = 'Requests served with the auth server killed';
  const o = m.outage;
  if (!o) return skippedRow(q, 'skipped', 'skipped');
  const winner = o.jwtOk === o.cookieOk ? 'tie' : o.jwtOk > o.cookieOk ? 'JWT' : 'sessions';
  return {
    question: q,
    sessions: `${o.cookieOk}/${o.requests}`,
    jwt: `${o.jwtOk}/${o.requests}`,
    winner,
    margin: `${Math.abs(o.jwtOk - o.cookieOk)} more requests`,
  };
}

/** The headline table: one line per question, each naming the winner on this run's figures. */
export function headline(m: Measured): HeadlineRow[] {
  return [addedCpuLine(m), throughputLine(m), uncachedLine(m), revocationLine(m), sizeLine(m), outageLine(m)];
}

// ---------------------------------------------------------------- sentences

function routeVerdicts(m: Measured): Verdict[] {
  const out: Verdict[] = [];
  const cookies = ran(m.http).filter((r) => r.kind === 'cookie' && r.ratio !== undefined);
  const cached = ran(m.http).filter((r) => r.kind === 'jwt' && r.cached && r.ratio !== undefined);
  const uncached = ran(m.http).filter((r) => r.kind === 'jwt' && r.cached === false && r.ratio !== undefined);
  const bestCookie = most(cookies, (r) => r.ratio as number);
  const bestJwt = most(cached, (r) => r.ratio as number);
  if (bestCookie && bestJwt) {
    const s = bestCookie.ratio as number;
    const j = bestJwt.ratio as number;
    const lead =
      Math.abs(s - j) < TIE_POINTS
        ? `a tie within ${(TIE_POINTS * 100).toFixed(0)} points`
        : j > s
          ? `JWTs win by ${((j - s) * 100).toFixed(1)} points`
          : `sessions win by ${((s - j) * 100).toFixed(1)} points`;
    out.push({
      topic: 'route',
      text:
        `Throughput of a protected route, as a share of the same server's no-auth route: behind a cached JWT the resource service keeps ` +
        `${fmtPct(j)} (${bestJwt.alg}, best of ${cached.length}); behind a cookie session the auth server keeps ${fmtPct(s)} ` +
        `(${backendName(bestCookie.backend)}, best of ${cookies.length}): ${lead}.`,
    });
  }
  const worstUncached = least(uncached, (r) => r.ratio as number);
  const bestUncached = most(uncached, (r) => r.ratio as number);
  if (worstUncached && bestUncached && bestJwt) {
    out.push({
      topic: 'route',
      text:
        `Without the verified-token cache the JWT rows keep ${fmtPct(worstUncached.ratio as number)} (${worstUncached.alg}) to ` +
        `${fmtPct(bestUncached.ratio as number)} (${bestUncached.alg}) of the no-auth req/s` +
        (bestCookie
          ? `; ${uncached.filter((r) => (r.ratio as number) < (bestCookie.ratio as number)).length} of ${uncached.length} uncached algorithms keep less than the best cookie-session store.`
          : '.'),
    });
  }
  return out;
}

function cpuVerdicts(m: Measured): Verdict[] {
  const out: Verdict[] = [];
  const verifies = ran(m.micro).filter((r) => r.kind === 'verify' && r.cpuUs !== undefined);
  const cached = ran(m.micro).find((r) => r.kind === 'verify-cached' && r.cpuUs !== undefined);
  const lookups = ran(m.micro).filter((r) => r.kind === 'lookup' && r.cpuUs !== undefined);
  if (verifies.length > 0) {
    const sorted = [...verifies].sort((a, b) => (a.cpuUs as number) - (b.cpuUs as number));
    out.push({
      topic: 'cpu',
      text:
        `An uncached verification costs ${listing(sorted.map((r) => `${fmtUs(r.cpuUs as number)} µs (${r.alg})`))} of CPU` +
        (cached ? `; a repeat token from the verified-token cache costs ${fmtUs(cached.cpuUs as number)} µs.` : '.'),
    });
  }
  const reference = referenceLookup(m.micro);
  if (reference && verifies.length > 0) {
    const ref = lookupCpu(reference);
    const where = `a ${backendName(reference.backend)} session lookup (${fmtUs(ref)} µs of CPU${reference.storeCpuUs !== undefined ? ', this process and the store server together' : ''})`;
    const dearer = verifies.filter((r) => (r.cpuUs as number) > ref).map((r) => r.alg as string);
    const cheaper = verifies.filter((r) => (r.cpuUs as number) <= ref).map((r) => r.alg as string);
    if (dearer.length > 0) {
      out.push({
        topic: 'cpu',
        text:
          `The usual claim that a JWT saves the CPU of a session lookup is false here for uncached ${listing(dearer)}: ` +
          `each verification costs more CPU than ${where}` +
          (cheaper.length > 0 ? `; it holds for ${listing(cheaper)}.` : '.'),
      });
    } else {
      out.push({ topic: 'cpu', text: `Every uncached verification (${listing(cheaper)}) costs less CPU than ${where}.` });
    }
    const es = verifies.find((r) => r.alg === 'ES256');
    if (es && reference.wallUs !== undefined && es.wallUs !== undefined) {
      out.push({
        topic: 'cpu',
        text:
          reference.wallUs > es.wallUs
            ? `In wall time the ${backendName(reference.backend)} lookup waits ${fmtUs(reference.wallUs)} µs for its round trip, ${fmtTimes(reference.wallUs / es.wallUs)} the ${fmtUs(es.wallUs)} µs of an uncached ES256 verify` +
              (ref < (es.cpuUs as number) ? ': it costs less CPU, but the request waits longer.' : ': it costs more in both.')
            : `In wall time the ${backendName(reference.backend)} lookup takes ${fmtUs(reference.wallUs)} µs, less than the ${fmtUs(es.wallUs)} µs of an uncached ES256 verify.`,
      });
    }
  }
  const cheapest = least(lookups, lookupCpu);
  if (cached && cheapest) {
    const c = cached.cpuUs as number;
    const l = lookupCpu(cheapest);
    out.push({
      topic: 'cpu',
      text:
        c < l
          ? `With the cache, a repeat token costs ${fmtTimes(l / c)} less CPU than the cheapest session lookup (${backendName(cheapest.backend)}, ${fmtUs(l)} µs).`
          : `Even cached, a token check costs more CPU (${fmtUs(c)} µs) than a ${backendName(cheapest.backend)} session lookup (${fmtUs(l)} µs).`,
    });
  }
  const withAdded = ran(m.http)
    .map((r) => ({ r, us: r.kind === 'baseline' ? undefined : addedCpu(r, m.http) }))
    .filter((x): x is { r: HttpRow; us: number } => x.us !== undefined);
  const cookieCpu = withAdded.filter((x) => x.r.kind === 'cookie').sort((a, b) => a.us - b.us);
  const jwtCpu = withAdded.filter((x) => x.r.kind === 'jwt' && x.r.cached).sort((a, b) => a.us - b.us);
  if (cookieCpu.length > 0 && jwtCpu.length > 0) {
    out.push({
      topic: 'cpu',
      text:
        `Per HTTP request, authentication adds ${listing(jwtCpu.map((x) => `${fmtUs(x.us)} µs (${x.r.alg})`))} of CPU behind a cached JWT, ` +
        `and ${listing(cookieCpu.map((x) => `${fmtUs(x.us)} µs (${backendName(x.r.backend)})`))} behind a cookie session (the server's process and the stores' together, over the no-auth route).`,
    });
  }
  return out;
}

function revocationVerdicts(m: Measured): Verdict[] {
  const out: Verdict[] = [];
  const c = m.cookieRevocation;
  if (c) {
    out.push({
      topic: 'revocation',
      text:
        c.acceptedAfterLogout === 0
          ? `A cookie session is refused on the very next request after its logout (${c.samples} of ${c.samples} refused).`
          : `${c.acceptedAfterLogout} of ${c.samples} cookie sessions were still accepted on the next request after logout.`,
    });
  }
  const target = m.budgets.revocationP99Ms;
  for (const r of ran(m.revocation) as RevocationRow[]) {
    if (r.p99Ms === undefined || r.p50Ms === undefined) continue;
    const feed = r.feed === 'sse' ? 'the SSE feed' : 'the Redis feed';
    out.push({
      topic: 'revocation',
      text:
        `A verifier on ${feed} refuses a logged-out token after p50 ${fmtMs(r.p50Ms)} ms, p99 ${fmtMs(r.p99Ms)} ms (${r.samples} logouts): ` +
        (r.p99Ms <= target ? `within the ${target} ms goal` : `over the ${target} ms goal by ${fmtMs(r.p99Ms - target)} ms`) +
        '; until then the token still works there.',
    });
  }
  for (const r of m.revocation.filter((x) => x.skipped !== undefined)) {
    out.push({ topic: 'revocation', text: `${r.label}: skipped (${r.skipped}).` });
  }
  return out;
}

function sizeVerdicts(m: Measured): Verdict[] {
  const cookie = m.sizes.find((s) => s.kind === 'cookie');
  const tokens = m.sizes.filter((s) => s.kind !== 'cookie');
  if (tokens.length === 0) return [];
  const small = least(tokens, (s) => s.bytes) as SizeRow;
  const large = most(tokens, (s) => s.bytes) as SizeRow;
  const out: Verdict[] = [];
  out.push({
    topic: 'size',
    text:
      `Access tokens here run from ${fmtBytes(small.bytes)} (${small.label}) to ${fmtBytes(large.bytes)} (${large.label})` +
      (cookie
        ? `, against ${fmtBytes(cookie.bytes)} for the session cookie: ${fmtTimes(small.bytes / cookie.bytes)} to ${fmtTimes(large.bytes / cookie.bytes)} as many bytes on every request.`
        : '.'),
  });
  const overCookie = tokens.filter((s) => s.bytes > m.budgets.cookieBytes);
  const overHeader = tokens.filter((s) => s.headerBytes > m.budgets.headerBytes);
  out.push({
    topic: 'size',
    text:
      overHeader.length > 0
        ? `${listing(overHeader.map((s) => s.label))} exceed the ${fmtBytes(m.budgets.headerBytes)} header budget.`
        : overCookie.length > 0
          ? `Every token fits the ${fmtBytes(m.budgets.headerBytes)} header budget, but ${listing(overCookie.map((s) => s.label))} would not fit a ${fmtBytes(m.budgets.cookieBytes)} cookie.`
          : `Every token fits both the ${fmtBytes(m.budgets.headerBytes)} header budget and a ${fmtBytes(m.budgets.cookieBytes)} cookie; the largest uses ${fmtPct(large.bytes / m.budgets.cookieBytes)} of the cookie.`,
  });
  return out;
}

function outageVerdicts(m: Measured): Verdict[] {
  const o = m.outage;
  if (!o) return [];
  return [
    {
      topic: 'outage',
      text:
        `With the auth server killed (SIGKILL), ${o.jwtOk} of ${o.requests} requests with tokens issued before the kill still succeeded at the resource service, ` +
        `and ${o.cookieOk} of ${o.requests} cookie requests to the auth server did` +
        (o.jwtOk > o.cookieOk
          ? ': JWTs keep services answering while the auth server is down.'
          : o.jwtOk < o.cookieOk
            ? '.'
            : ': no difference.'),
    },
  ];
}

function refreshVerdicts(m: Measured): Verdict[] {
  const rows = ran(m.throughput).filter((r) => r.rps !== undefined);
  const logins = rows.filter((r) => r.op === 'login');
  const refreshes = rows.filter((r) => r.op === 'refresh').sort((a, b) => (b.rps as number) - (a.rps as number));
  const login = most(logins, (r) => r.rps as number);
  if (!login || refreshes.length === 0) return [];
  return [
    {
      topic: 'refresh',
      text:
        `Refresh rotations reach ${listing(refreshes.map((r) => `${Math.round(r.rps as number).toLocaleString('en-US')}/s (${backendName(r.backend)})`))}; ` +
        `password logins ${Math.round(login.rps as number).toLocaleString('en-US')}/s (${backendName(login.backend)}, bound by argon2id): ` +
        `the fastest refresh is ${fmtTimes((refreshes[0]?.rps as number) / (login.rps as number))} a login.`,
    },
  ];
}

function backendVerdicts(m: Measured): Verdict[] {
  const cookies = ran(m.http)
    .filter((r) => r.kind === 'cookie' && r.ratio !== undefined)
    .sort((a, b) => (b.ratio as number) - (a.ratio as number));
  const out: Verdict[] = [];
  if (cookies.length >= 2) {
    const first = cookies[0] as HttpRow;
    const last = cookies[cookies.length - 1] as HttpRow;
    out.push({
      topic: 'backends',
      text: `Among session stores, ${backendName(first.backend)} keeps the most of the auth server's no-auth req/s (${fmtPct(first.ratio as number)}) and ${backendName(last.backend)} the least (${fmtPct(last.ratio as number)}).`,
    });
  }
  for (const r of m.http.filter((x) => x.kind === 'cookie' && x.skipped !== undefined)) {
    out.push({ topic: 'backends', text: `${r.label}: skipped (${r.skipped}).` });
  }
  return out;
}

/** Every sentence of the report, in reading order, each computed from the figures. */
export function verdicts(m: Measured): Verdict[] {
  return [
    ...routeVerdicts(m),
    ...cpuVerdicts(m),
    ...revocationVerdicts(m),
    ...sizeVerdicts(m),
    ...outageVerdicts(m),
    ...refreshVerdicts(m),
    ...backendVerdicts(m),
  ];
}
