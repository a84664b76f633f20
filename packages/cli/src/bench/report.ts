// The report as a list of sections (text, a table, a chart), rendered twice: report.md, whose
// charts are files next to it, and report.html, self-contained (inline CSS, inline SVG). Every
// figure is written with the functions of format.ts from results.json's values.
import type { Chart } from './charts.js';
import { addedCpu, likeNoAuth, opFigure, share } from './figures.js';
import { fmtBytes, fmtMs, fmtPct, fmtRps, fmtUs } from './format.js';
import { fmtCost, fmtFigure } from './noise.js';
import { BACKEND_NAMES, type BenchResults, type Verdict } from './types.js';
import { listing } from './verdicts.js';

/** A table: header cells, rows, and which columns align left (the others align right). */
export interface Table {
  head: string[];
  rows: string[][];
  left: number[];
}

/** One section of the report. */
export interface Section {
  id: string;
  title: string;
  paragraphs: string[];
  table?: Table;
  /** Bulleted sentences. */
  bullets?: string[];
  /** The name of a chart (charts/<name>.svg). */
  chart?: string;
}

export const TITLE = 'Sessions vs JWTs on this machine: Tessera bench';

const dash = '—';
const opt = (x: number | undefined, f: (n: number) => string) => (x === undefined ? dash : f(x));
const topic = (vs: readonly Verdict[], ...topics: Verdict['topic'][]) => vs.filter((v) => topics.includes(v.topic)).map((v) => v.text);

/** The sections of the report, in order. */
export function sections(r: BenchResults): Section[] {
  const m = r.machine;
  const s = r.settings;
  const out: Section[] = [];
  out.push({
    id: 'headline',
    title: 'Headline',
    paragraphs: [
      `Measured ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu} (${m.cores} cores), Node ${m.node}, ${m.platform}; ` +
        `1-minute load average ${m.loadBefore.toFixed(2)} before and ${m.loadAfter.toFixed(2)} after (other processes share these cores). ` +
        `Reproduce with \`${r.command}\`.`,
      s.quick
        ? `Which method wins where, on this machine, by how much. This is a --quick run (${s.rounds === 1 ? 'one round' : `${s.rounds} rounds`} of ${s.durationS} s per row): every verdict is rough; run without --quick for figures to quote.`
        : 'Which method wins where, on this machine, by how much (± is the spread across the run’s rounds; a gap inside it is no measurable difference):',
    ],
    table: {
      head: ['Question', 'Sessions', 'JWT', 'Winner', 'By how much'],
      rows: r.headline.map((h) => [h.question, h.sessions, h.jwt, h.winner, h.margin]),
      left: [0, 1, 2, 3, 4],
    },
    bullets: r.verdicts.map((v) => v.text),
  });

  const httpRows = r.http.map((h) => {
    const server = h.server === 'auth' ? 'auth server' : 'resource service';
    if (h.skipped !== undefined) return [h.label, server, `skipped: ${h.skipped}`, dash, dash, dash, dash];
    const kept = share(h, r.http);
    const pm = kept?.pm === undefined ? dash : `± ${(kept.pm * 100).toFixed(1)} points`;
    return [
      h.label,
      server,
      opt(h.rps, fmtRps),
      opt(h.p50Ms, fmtMs),
      opt(h.p99Ms, fmtMs),
      h.kind === 'baseline' ? 'baseline' : opt(h.ratio, fmtPct),
      h.kind === 'baseline' || kept === undefined ? dash : likeNoAuth(kept) ? `${pm}: indistinguishable from no auth` : pm,
    ];
  });
  out.push({
    id: 'route',
    title: 'A protected route: cookie session vs JWT',
    paragraphs: [
      `Cookie rows: \`GET /v1/me\` on the Tessera auth server, its session looked up per request in each store; baseline \`GET /healthz\` of the same server. ` +
        `JWT rows: a node:http resource service verifying the Bearer token with @tessera/verify (the algorithm's key, the SSE revocation feed), ` +
        `with the verified-token cache (a repeated token) and without it (every request a full verification); baseline its no-auth route. ` +
        `${s.connections} connections, ${s.warmupS} s warm-up + ${s.durationS} s per row, median of ${s.rounds} interleaved round(s); “vs no auth” is paired per round.`,
      'The two servers differ in what a request costs before any authentication (the auth server is a full Fastify app, the resource service a bare node:http one), ' +
        'so a share of each one’s own baseline says how much authentication slows that server; the like-for-like comparison is the CPU it adds per request, below.',
    ],
    table: { head: ['Row', 'Server', 'req/s', 'p50 ms', 'p99 ms', 'vs no auth', 'uncertainty'], rows: httpRows, left: [0, 1] },
    bullets: topic(r.verdicts, 'route', 'backends'),
    chart: 'route-throughput',
  });
  out.push({
    id: 'route-cpu',
    title: 'CPU per request',
    paragraphs: [
      'CPU time per answered request of the rows above, from /proc: the server process, and every PostgreSQL and Redis process (other users of them included). ' +
        'What authentication adds is the row’s total over its server’s no-auth route, ± half its spread across rounds (at least half the spread among the cached JWT rows, which do the same work); ' +
        '“≤ noise” when it cannot be told from zero.',
    ],
    table: {
      head: ['Row', 'µs server', 'µs stores', 'µs added by auth'],
      rows: r.http
        .filter((h) => h.skipped === undefined)
        .map((h) => [
          h.label,
          opt(h.serverCpuUs, fmtUs),
          opt(h.storeCpuUs, fmtUs),
          h.kind === 'baseline' ? 'baseline' : ((f) => (f === undefined ? dash : fmtCost(f)))(addedCpu(h, r.http)),
        ]),
      left: [0],
    },
    chart: 'route-cpu',
  });

  out.push({
    id: 'cpu',
    title: 'CPU per operation, in process',
    paragraphs: [
      `Each operation in a loop in one process, ${s.microSliceMs} ms slices interleaved over ${s.microRounds} rounds, median. ` +
        'Verification: @tessera/verify with the key at hand (uncached: the cache off; cached: a repeated token, the revocation check included). ' +
        `Session lookup: what the auth server does per cookie request (session and user in one read, SHA-256 of the secret compared in constant time, expiry), ${s.connections} in flight as under load; ` +
        'for PostgreSQL and Redis the CPU of their server processes is added, and the wall time is the mean latency of one lookup, round trip included.',
    ],
    table: {
      head: ['Operation', 'µs wall', 'µs CPU (this process)', 'µs CPU (store server)', 'µs CPU total (± over rounds)'],
      rows: r.micro.map((x) =>
        x.skipped !== undefined
          ? [x.label, `skipped: ${x.skipped}`, dash, dash, dash]
          : [x.label, opt(x.wallUs, fmtUs), opt(x.cpuUs, fmtUs), opt(x.storeCpuUs, fmtUs), fmtFigure(opFigure(x))],
      ),
      left: [0],
    },
    bullets: topic(r.verdicts, 'cpu'),
    chart: 'cpu-per-operation',
  });

  out.push({
    id: 'revocation',
    title: 'Revocation: logout → refused',
    paragraphs: [
      'Tokens: a session logged out at the auth server (`POST /v1/logout`) while the resource service is polled with its access token, back to back, until it answers 401; ' +
        'the time from sending the logout to that refusal. One verifier follows the auth server’s SSE feed, the other Redis pub/sub. ' +
        'Cookies: a session logged out (`DELETE /v1/sessions/current`), then the very next request with its cookie.',
    ],
    table: {
      head: ['Verifier', 'logouts', 'p50 ms', 'p99 ms', 'max ms', 'after the logout'],
      rows: [
        ...(r.cookieRevocation
          ? [
              [
                'cookie session (auth server)',
                String(r.cookieRevocation.samples),
                dash,
                dash,
                dash,
                `next request: ${r.cookieRevocation.acceptedAfterLogout} of ${r.cookieRevocation.samples} accepted`,
              ],
            ]
          : []),
        ...r.revocation.map((x) =>
          x.skipped !== undefined
            ? [x.label, `skipped: ${x.skipped}`, dash, dash, dash, dash]
            : [
                x.label,
                String(x.samples),
                opt(x.p50Ms, fmtMs),
                opt(x.p99Ms, fmtMs),
                opt(x.maxMs, fmtMs),
                'accepted until the feed delivers',
              ],
        ),
      ],
      left: [0, 5],
    },
    bullets: topic(r.verdicts, 'revocation'),
    chart: 'revocation',
  });

  out.push({
    id: 'size',
    title: 'Token size',
    paragraphs: [
      'The session cookie as the browser sends it back (`name=value`), and access tokens with the claims the auth server issued, signed with each algorithm, ' +
        `with and without email and roles, and encrypted. Budgets: ${fmtBytes(r.budgets.headerBytes)} of request headers (a common proxy limit), ${fmtBytes(r.budgets.cookieBytes)} per cookie (browsers).`,
    ],
    table: {
      head: [
        'Credential',
        'bytes',
        'header bytes',
        `of ${fmtBytes(r.budgets.headerBytes)} headers`,
        `of a ${fmtBytes(r.budgets.cookieBytes)} cookie`,
      ],
      rows: r.sizes.map((x) => [
        x.label,
        fmtBytes(x.bytes),
        fmtBytes(x.headerBytes),
        fmtPct(x.headerBytes / r.budgets.headerBytes),
        fmtPct(x.bytes / r.budgets.cookieBytes),
      ]),
      left: [0],
    },
    bullets: topic(r.verdicts, 'size'),
    chart: 'sizes',
  });

  out.push({
    id: 'throughput',
    title: 'Login and refresh',
    paragraphs: [
      `Closed loops at the auth server: password logins (${s.loginWorkers} workers, argon2id-bound; measured on ${listing([...new Set(r.throughput.filter((x) => x.op === 'login').map((x) => BACKEND_NAMES[x.backend]))])} only, since the password hash, not the store, bounds a login) ` +
        `and refresh-token rotations (${s.connections} workers, each rotating a family of its own), on every store.`,
    ],
    table: {
      head: ['Row', 'req/s', 'p50 ms', 'p99 ms'],
      rows: r.throughput.map((x) =>
        x.skipped !== undefined
          ? [x.label, `skipped: ${x.skipped}`, dash, dash]
          : [x.label, opt(x.rps, fmtRps), opt(x.p50Ms, fmtMs), opt(x.p99Ms, fmtMs)],
      ),
      left: [0],
    },
    bullets: topic(r.verdicts, 'refresh'),
    chart: 'login-refresh',
  });

  out.push({
    id: 'outage',
    title: 'The auth server killed',
    paragraphs: [
      'The auth server process is killed with SIGKILL. Then the resource service gets requests with access tokens issued before the kill (it verifies with the keys it holds), ' +
        'and the auth server gets requests with a session cookie.',
    ],
    table: r.outage
      ? {
          head: ['Credential', 'requests', 'succeeded'],
          rows: [
            ['JWT at the resource service', String(r.outage.requests), String(r.outage.jwtOk)],
            ['cookie at the auth server', String(r.outage.requests), String(r.outage.cookieOk)],
          ],
          left: [0],
        }
      : { head: ['Credential', 'requests', 'succeeded'], rows: [['skipped', dash, dash]], left: [0] },
    bullets: topic(r.verdicts, 'outage'),
    chart: 'outage',
  });

  const svc = (name: string, x: { where: string; skipped: string | null }) =>
    `${name}: ${x.skipped === null ? `${x.where} (a database or key prefix of the run's own, removed at the end)` : `skipped: ${x.skipped}`}`;
  out.push({
    id: 'machine',
    title: 'Machine and method',
    paragraphs: [
      `${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform}. Run took ${Math.round(r.elapsedS)} s${s.quick ? ` (--quick: ${s.rounds} short rounds; every verdict is rough)` : ''}.`,
      'The load generator (autocannon, and a minimal keep-alive client for closed loops) runs in the bench process; the auth server and the resource service run in processes of their own, sharing the same cores.',
      `Session stores: memory, SQLite (a temporary file), ${BACKEND_NAMES.redis} (sessions in Redis), ${BACKEND_NAMES.postgres}.`,
    ],
    bullets: [svc('PostgreSQL', r.services.postgres), svc('Redis', r.services.redis), `Reproduce: \`${r.command}\``],
  });
  return out;
}

// ---------------------------------------------------------------- Markdown

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown table, columns padded, numbers right-aligned. */
export function markdownTableOf(t: Table): string[] {
  const cells = [t.head, ...t.rows].map((row) => row.map(mdCell));
  const widths = (cells[0] ?? []).map((_, c) => Math.max(3, ...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => (t.left.includes(c) ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (t.left.includes(c) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)];
}

/** report.md: charts linked as `charts/<name>.svg`. */
export function toMarkdown(r: BenchResults, chartList: readonly Chart[]): string {
  const names = new Set(chartList.map((c) => c.name));
  const lines = [`# ${TITLE}`, ''];
  for (const sec of sections(r)) {
    lines.push(`## ${sec.title}`, '');
    for (const p of sec.paragraphs) lines.push(p, '');
    if (sec.table) lines.push(...markdownTableOf(sec.table), '');
    if (sec.bullets && sec.bullets.length > 0) lines.push(...sec.bullets.map((b) => `- ${b}`), '');
    if (sec.chart && names.has(sec.chart)) {
      const chart = chartList.find((c) => c.name === sec.chart) as Chart;
      lines.push(`![${chart.title}](charts/${chart.name}.svg)`, '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------- HTML

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Inline `code` spans of the Markdown text, as HTML. */
const inline = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111827; background: #f9fafb; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 40px 0 10px; padding-top: 8px; border-top: 1px solid #e5e7eb; }
p { margin: 8px 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef2f7; padding: 1px 5px; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: 12px 0; background: #fff; font-size: 13.5px; }
th, td { border: 1px solid #e5e7eb; padding: 6px 9px; vertical-align: top; }
th { background: #f3f4f6; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.win-JWT { color: #92400e; font-weight: 600; }
td.win-sessions { color: #1d4ed8; font-weight: 600; }
ul { padding-left: 22px; }
li { margin: 4px 0; }
figure { margin: 16px 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px; }
figcaption { font-size: 13.5px; color: #374151; margin-bottom: 6px; font-weight: 600; }
figure svg { max-width: 100%; height: auto; display: block; }
`;

/** report.html: self-contained, styles and charts inline. */
export function toHtml(r: BenchResults, chartList: readonly Chart[]): string {
  const body: string[] = [`<h1>${esc(TITLE)}</h1>`];
  for (const sec of sections(r)) {
    body.push(`<section id="${sec.id}">`, `<h2>${esc(sec.title)}</h2>`);
    for (const p of sec.paragraphs) body.push(`<p>${inline(p)}</p>`);
    if (sec.table) {
      const t = sec.table;
      const winnerCol = sec.id === 'headline' ? 3 : -1;
      body.push('<table>', `<thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`, '<tbody>');
      for (const row of t.rows) {
        const cells = row.map((cell, c) => {
          const cls = c === winnerCol ? ` class="win-${esc(cell)}"` : t.left.includes(c) ? '' : ' class="num"';
          return `<td${cls}>${inline(cell)}</td>`;
        });
        body.push(`<tr>${cells.join('')}</tr>`);
      }
      body.push('</tbody></table>');
    }
    if (sec.bullets && sec.bullets.length > 0) body.push('<ul>', ...sec.bullets.map((b) => `<li>${inline(b)}</li>`), '</ul>');
    const chart = sec.chart ? chartList.find((c) => c.name === sec.chart) : undefined;
    if (chart) body.push(`<figure id="chart-${chart.name}"><figcaption>${esc(chart.title)}</figcaption>${chart.svg}</figure>`);
    body.push('</section>');
  }
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(TITLE)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    ...body,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}
