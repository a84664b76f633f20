// The headline table: one line per question, each naming the winner on this run's figures, or
// none when the gap is inside the noise. The CPU lines compare per-request figures, the measure
// of the report's CPU-per-request table; the sentences of the CPU section set the in-process
// figures beside them (verdicts.ts).
import { addedCpu, addedGap, fmtShare, likeNoAuth, share, shareGap } from './figures.js';
import { fmtBytes, fmtMs, fmtUs } from './format.js';
import {
  backendName,
  judgeLess,
  least,
  lessWins,
  listing,
  most,
  points,
  ran,
  referenceCookie,
  referenceLookup,
  roughTag,
  skippedRow,
  usCost,
} from './judge.js';
import type { Figure } from './noise.js';
import type { HeadlineRow, HttpRow, Measured } from './types.js';

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
  const s = cookie && share(cookie, m.http);
  const j = jwt && share(jwt, m.http);
  const gap = cookie && jwt && shareGap(cookie, jwt, m.http);
  if (!cookie || !jwt || !s || !j || !gap) return skippedRow(q, s ? fmtShare(s) : 'skipped', j ? fmtShare(j) : 'skipped');
  const row = { question: q, sessions: `${backendName(cookie.backend)}: ${fmtShare(s)}`, jwt: `${jwt.alg}, cached: ${fmtShare(j)}` };
  // More is better here: the gap sessions − jwt is judged as a cost of jwt − sessions.
  const judged = judgeLess(
    1 - Math.min(1, s.value),
    1 - Math.min(1, j.value),
    { value: -gap.value, pm: gap.pm },
    points,
    ' points',
    roughTag(m),
  );
  if (judged.winner === 'tie' && likeNoAuth(s) && likeNoAuth(j))
    return { ...row, winner: 'tie', margin: `both indistinguishable from no auth${roughTag(m)}` };
  return {
    ...row,
    winner: judged.winner,
    margin:
      judged.winner === 'JWT' || judged.winner === 'sessions'
        ? `${points(Math.abs(gap.value))} ± ${points(gap.pm as number)} points more${roughTag(m)}`
        : judged.margin,
  };
}

function addedCpuLine(m: Measured): HeadlineRow {
  const q = 'CPU added per request by authentication (server + stores)';
  const withCpu = (kind: HttpRow['kind']) =>
    ran(m.http)
      .filter((r) => r.kind === kind && (kind !== 'jwt' || r.cached))
      .map((r) => ({ r, f: addedCpu(r, m.http) }))
      .filter((x): x is { r: HttpRow; f: Figure } => x.f !== undefined);
  const cookie = least(withCpu('cookie'), (x) => x.f.value);
  const jwt = least(withCpu('jwt'), (x) => x.f.value);
  const gap = cookie && jwt && addedGap(cookie.r, jwt.r, m.http);
  if (!cookie || !jwt || !gap) return skippedRow(q, cookie ? usCost(cookie.f) : 'skipped', jwt ? usCost(jwt.f) : 'skipped');
  return {
    question: q,
    sessions: `${backendName(cookie.r.backend)}: ${usCost(cookie.f)}`,
    jwt: `${jwt.r.alg}, cached: ${usCost(jwt.f)}`,
    ...judgeLess(Math.max(0, cookie.f.value), Math.max(0, jwt.f.value), gap, fmtUs, ' µs', roughTag(m)),
  };
}

/**
 * Uncached ES256 against a cookie session, per HTTP request: the measure the CPU-per-request
 * table shows. The in-process figures of the same pair are compared in the CPU section, which
 * says when the two measures disagree.
 */
function uncachedLine(m: Measured): HeadlineRow {
  const cookie = referenceCookie(m, referenceLookup(m.micro)?.backend);
  const jwt = ran(m.http).find((r) => r.kind === 'jwt' && r.alg === 'ES256' && r.cached === false);
  const q = `CPU added per request without the token cache: ES256 vs ${cookie ? backendName(cookie.backend) : 'store'} session (server + stores)`;
  const c = cookie && addedCpu(cookie, m.http);
  const j = jwt && addedCpu(jwt, m.http);
  const gap = cookie && jwt && addedGap(cookie, jwt, m.http);
  if (!c || !j || !gap) return skippedRow(q, c ? usCost(c) : 'skipped', j ? usCost(j) : 'skipped');
  return {
    question: q,
    sessions: usCost(c),
    jwt: usCost(j),
    ...judgeLess(Math.max(0, c.value), Math.max(0, j.value), gap, fmtUs, ' µs', roughTag(m)),
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
  return {
    question: q,
    sessions,
    jwt,
    winner: 'sessions',
    margin: `JWT usable up to ${fmtMs(worst.p99Ms as number)} ms longer (p99)${roughTag(m)}`,
  };
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

/** The headline table: one line per question, each naming the winner on this run's figures, or none when the gap is inside the noise. */
export function headline(m: Measured): HeadlineRow[] {
  return [addedCpuLine(m), throughputLine(m), uncachedLine(m), revocationLine(m), sizeLine(m), outageLine(m)];
}
