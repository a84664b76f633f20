// The report's claims, derived from the figures of one run: who wins each comparison on this
// machine and by how much. Nothing here is fixed text about sessions or JWTs: every sentence is
// picked and filled in by comparing measured numbers, so a run on another machine (or one where
// a usual claim for JWTs is false) says so itself. Every timed comparison carries its
// uncertainty from the run (noise.ts); a gap inside it is "no measurable difference", never a win.
import { addedCpu, addedGap, fmtPoints, fmtShare, opCpu, opFigure, opGap, share, shareGap, wallFigure, wallGap } from './figures.js';
import { fmtBytes, fmtMs, fmtPct, fmtTimes } from './format.js';
import { headline } from './headline.js';
import {
  backendName,
  keeps,
  least,
  listing,
  most,
  noDifference,
  ran,
  referenceCookie,
  referenceLookup,
  roughTag,
  us,
  usCost,
  usFig,
} from './judge.js';
import { type Figure, withinNoise } from './noise.js';
import type { HeadlineRow, HttpRow, Measured, RevocationRow, SizeRow, Verdict } from './types.js';

export { headline } from './headline.js';
export { judgeLess, lessWins, listing, noDifference, TIE_FACTOR } from './judge.js';

function noiseVerdicts(m: Measured): Verdict[] {
  const rounds = m.settings.rounds;
  const text =
    rounds > 1
      ? `How sure: every ± is half the spread of a figure across this run's ${rounds} interleaved rounds (for a gap between two rows, of the gap taken round by round), ` +
        'and for HTTP rows at least half the spread among the cached JWT rows, which do the same work whatever the algorithm; ' +
        'a gap inside its ± is reported as no measurable difference, and a share of the no-auth req/s above 100% or within its ± of it as indistinguishable from no auth.'
      : 'How sure: this run has a single round, so no figure has a spread of its own; for HTTP rows the ± is half the spread among the cached JWT rows, ' +
        'which do the same work whatever the algorithm, and in-process gaps cannot be told from noise. A gap inside its ± is reported as no measurable difference.';
  return [
    { topic: 'noise', text },
    ...(m.settings.quick
      ? [
          {
            topic: 'noise' as const,
            text: `This is a --quick run (${rounds === 1 ? 'one round' : `${rounds} rounds`} of ${m.settings.durationS} s per row): every verdict in it is rough; run \`tessera bench\` without --quick for figures to quote.`,
          },
        ]
      : []),
  ];
}

function routeVerdicts(m: Measured): Verdict[] {
  const out: Verdict[] = [];
  const cookies = ran(m.http).filter((r) => r.kind === 'cookie' && r.ratio !== undefined);
  const cached = ran(m.http).filter((r) => r.kind === 'jwt' && r.cached && r.ratio !== undefined);
  const uncached = ran(m.http).filter((r) => r.kind === 'jwt' && r.cached === false && r.ratio !== undefined);
  const bestCookie = most(cookies, (r) => r.ratio as number);
  const bestJwt = most(cached, (r) => r.ratio as number);
  const line = headline(m)[1] as HeadlineRow;
  if (bestCookie && bestJwt) {
    const s = share(bestCookie, m.http) as Figure;
    const j = share(bestJwt, m.http) as Figure;
    const lead =
      line.winner === 'JWT'
        ? `JWTs keep ${line.margin}`
        : line.winner === 'sessions'
          ? `sessions keep ${line.margin}`
          : line.winner === 'tie'
            ? line.margin
            : `no winner (${line.margin})`;
    out.push({
      topic: 'route',
      text:
        `Throughput of a protected route, as a share of the same server's no-auth route: behind a cached JWT (${bestJwt.alg}, best of ${cached.length}) the resource service keeps ` +
        `${keeps(j)}; behind a cookie session (${backendName(bestCookie.backend)}, best of ${cookies.length}) the auth server keeps ${keeps(s)}: ${lead}.`,
    });
  }
  const worstUncached = least(uncached, (r) => r.ratio as number);
  const bestUncached = most(uncached, (r) => r.ratio as number);
  if (worstUncached && bestUncached && bestJwt) {
    const below = bestCookie
      ? uncached.filter((r) => {
          const gap = shareGap(bestCookie, r, m.http);
          return gap !== undefined && gap.pm !== undefined && gap.value > gap.pm;
        })
      : [];
    out.push({
      topic: 'route',
      text:
        `Without the verified-token cache the JWT rows keep ${fmtShare(share(worstUncached, m.http) as Figure)} (${worstUncached.alg}) to ` +
        `${fmtShare(share(bestUncached, m.http) as Figure)} (${bestUncached.alg}) of the no-auth req/s` +
        (bestCookie
          ? `; ${below.length} of ${uncached.length} uncached algorithms keep measurably less than the best cookie-session store (${backendName(bestCookie.backend)}).`
          : '.'),
    });
  }
  return out;
}

type Side = 'more' | 'less' | 'same' | 'unknown';
/** Which side of the noise a gap `x − reference` falls on. */
const sideOf = (gap: Figure | undefined): Side =>
  gap === undefined || gap.pm === undefined ? 'unknown' : withinNoise(gap) ? 'same' : gap.value > 0 ? 'more' : 'less';

/** "more for A and B, less for C, and no measurable difference for D (within ±x)": the groups that have members. */
function bySide(items: readonly { name: string; side: Side; gap?: Figure }[], unit: (x: number) => string): string {
  const group = (side: Side) => items.filter((i) => i.side === side);
  const parts: string[] = [];
  if (group('more').length > 0) parts.push(`more for ${listing(group('more').map((i) => i.name))}`);
  if (group('less').length > 0) parts.push(`less for ${listing(group('less').map((i) => i.name))}`);
  const same = group('same');
  if (same.length > 0) {
    const pm = Math.max(...same.map((i) => i.gap?.pm ?? 0));
    parts.push(`no measurable difference for ${listing(same.map((i) => i.name))} (within ±${unit(pm)})`);
  }
  if (group('unknown').length > 0) parts.push(`no spread to judge by for ${listing(group('unknown').map((i) => i.name))}`);
  return listing(parts);
}

function cpuVerdicts(m: Measured): Verdict[] {
  const out: Verdict[] = [];
  const verifies = ran(m.micro).filter((r) => r.kind === 'verify' && r.cpuUs !== undefined);
  const cached = ran(m.micro).find((r) => r.kind === 'verify-cached' && r.cpuUs !== undefined);
  const lookups = ran(m.micro).filter((r) => r.kind === 'lookup' && r.cpuUs !== undefined);
  if (verifies.length > 0) {
    const sorted = [...verifies].sort((a, b) => opCpu(a) - opCpu(b));
    out.push({
      topic: 'cpu',
      text:
        `In process, an uncached verification costs ${listing(sorted.map((r) => `${usFig(opFigure(r))} (${r.alg})`))} of CPU` +
        (cached ? `; a repeat token from the verified-token cache costs ${usFig(opFigure(cached))}.` : '.'),
    });
  }
  const reference = referenceLookup(m.micro);
  const inProcess = new Map<string, Side>();
  if (reference && verifies.length > 0) {
    const name = backendName(reference.backend);
    const items = verifies.map((v) => {
      const gap = opGap(v, reference);
      return { name: v.alg as string, side: sideOf(gap), gap };
    });
    for (const i of items) inProcess.set(i.name, i.side);
    const dearer = items.filter((i) => i.side === 'more').map((i) => i.name);
    out.push({
      topic: 'cpu',
      text:
        `In process (each call alone in a loop; for a lookup, the store server's CPU added), a ${name} session lookup costs ${usFig(opFigure(reference))} of CPU, ` +
        `and an uncached verification costs ${bySide(items, us)}` +
        (dearer.length > 0
          ? `: the usual claim that a JWT saves the CPU of a session lookup is false here, in process, for uncached ${listing(dearer)}.`
          : '.'),
    });
  }
  // The same comparison per HTTP request (the headline's measure), and where the two disagree.
  const cookie = referenceCookie(m, reference?.backend);
  const uncachedRoutes = ran(m.http).filter((r) => r.kind === 'jwt' && r.cached === false && addedCpu(r, m.http) !== undefined);
  if (cookie && uncachedRoutes.length > 0) {
    const name = backendName(cookie.backend);
    const items = uncachedRoutes.map((r) => {
      const gap = addedGap(r, cookie, m.http);
      return { name: `${r.alg} (${usCost(addedCpu(r, m.http) as Figure)})`, alg: r.alg as string, side: sideOf(gap), gap };
    });
    out.push({
      topic: 'cpu',
      text:
        `Per HTTP request (all the CPU the server and the stores spend beyond the same server's no-auth route: the measure of the headline and the CPU-per-request table), ` +
        `a ${name} cookie session adds ${usCost(addedCpu(cookie, m.http) as Figure)}, and an uncached JWT adds ${bySide(items, us)}.`,
    });
    const opposite = items.filter((i) => {
      const p = inProcess.get(i.alg);
      return (p === 'more' && i.side === 'less') || (p === 'less' && i.side === 'more');
    });
    if (reference && opposite.length > 0) {
      const describe = (i: (typeof items)[number]) =>
        i.side === 'more'
          ? `${i.alg} (cheaper than the lookup in process, dearer than the cookie session per request)`
          : `${i.alg} (dearer than the lookup in process, cheaper than the cookie session per request)`;
      out.push({
        topic: 'cpu',
        text:
          `The two measures disagree for ${listing(opposite.map(describe))}. They time different things: in process, the verification call and the lookup call alone; ` +
          `per request, everything each server and the stores spend on the request beyond no auth. The headline row uses the per-request figure.`,
      });
    }
  }
  const es = verifies.find((r) => r.alg === 'ES256');
  if (reference && es && reference.wallUs !== undefined && es.wallUs !== undefined) {
    const name = backendName(reference.backend);
    const gap = wallGap(reference, es);
    const cpuSide = inProcess.get('ES256');
    out.push({
      topic: 'cpu',
      text:
        sideOf(gap) === 'same'
          ? `In wall time the ${name} lookup (${usFig(wallFigure(reference))}) and an uncached ES256 verify (${usFig(wallFigure(es))}) show ${noDifference(us(gap.pm as number))}.`
          : reference.wallUs > es.wallUs
            ? `In wall time the ${name} lookup waits ${usFig(wallFigure(reference))} for its round trip, ${fmtTimes(reference.wallUs / es.wallUs)} the ${usFig(wallFigure(es))} of an uncached ES256 verify` +
              (cpuSide === 'more'
                ? ': it costs less CPU, but the request waits longer.'
                : cpuSide === 'less'
                  ? ': it costs more in both.'
                  : ': the request waits longer.')
            : `In wall time the ${name} lookup takes ${usFig(wallFigure(reference))}, less than the ${usFig(wallFigure(es))} of an uncached ES256 verify.`,
    });
  }
  const cheapest = least(lookups, opCpu);
  if (cached && cheapest) {
    const gap = opGap(cheapest, cached);
    const where = `the cheapest session lookup (${backendName(cheapest.backend)}, ${usFig(opFigure(cheapest))})`;
    out.push({
      topic: 'cpu',
      text:
        sideOf(gap) === 'same'
          ? `With the cache, a repeat token (${usFig(opFigure(cached))}) and ${where} show ${noDifference(us(gap.pm as number))}.`
          : gap.value > 0
            ? `With the cache, a repeat token costs ${fmtTimes(opCpu(cheapest) / opCpu(cached))} less CPU than ${where}.`
            : `Even cached, a token check costs more CPU (${usFig(opFigure(cached))}) than ${where}.`,
    });
  }
  const withAdded = ran(m.http)
    .map((r) => ({ r, f: r.kind === 'baseline' ? undefined : addedCpu(r, m.http) }))
    .filter((x): x is { r: HttpRow; f: Figure } => x.f !== undefined);
  const cookieCpu = withAdded.filter((x) => x.r.kind === 'cookie').sort((a, b) => a.f.value - b.f.value);
  const jwtCpu = withAdded.filter((x) => x.r.kind === 'jwt' && x.r.cached).sort((a, b) => a.f.value - b.f.value);
  if (cookieCpu.length > 0 && jwtCpu.length > 0) {
    out.push({
      topic: 'cpu',
      text:
        `Per HTTP request, authentication adds ${listing(jwtCpu.map((x) => `${usCost(x.f)} (${x.r.alg})`))} of CPU behind a cached JWT, ` +
        `and ${listing(cookieCpu.map((x) => `${usCost(x.f)} (${backendName(x.r.backend)})`))} behind a cookie session (the server's process and the stores' together, over the no-auth route).`,
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
        `; until then the token still works there${roughTag(m)}.`,
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
  const loginStores = listing(logins.map((r) => backendName(r.backend)));
  return [
    {
      topic: 'refresh',
      text:
        `Refresh rotations reach ${listing(refreshes.map((r) => `${Math.round(r.rps as number).toLocaleString('en-US')}/s (${backendName(r.backend)})`))}; ` +
        `password logins ${Math.round(login.rps as number).toLocaleString('en-US')}/s (measured on ${loginStores} only; bound by argon2id): ` +
        `the fastest refresh is ${fmtTimes((refreshes[0]?.rps as number) / (login.rps as number))} a login${roughTag(m)}.`,
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
    const gap = shareGap(first, last, m.http);
    const f = (r: HttpRow) => keeps(share(r, m.http) as Figure);
    out.push({
      topic: 'backends',
      text:
        gap !== undefined && sideOf(gap) === 'same'
          ? `Among session stores, ${backendName(first.backend)} (${f(first)}) and ${backendName(last.backend)} (${f(last)}) keep the most and the least of the auth server's no-auth req/s, but the gap is inside the noise: ${noDifference(fmtPoints(gap.pm as number))}${roughTag(m)}.`
          : `Among session stores, ${backendName(first.backend)} keeps the most of the auth server's no-auth req/s (${f(first)}) and ${backendName(last.backend)} the least (${f(last)})${roughTag(m)}.`,
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
    ...noiseVerdicts(m),
    ...routeVerdicts(m),
    ...cpuVerdicts(m),
    ...revocationVerdicts(m),
    ...sizeVerdicts(m),
    ...outageVerdicts(m),
    ...refreshVerdicts(m),
    ...backendVerdicts(m),
  ];
}
