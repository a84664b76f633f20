// The report's charts, drawn by ECharts on the server side as SVG (no browser, no network): the
// same SVG goes inline into report.html and into charts/*.svg for report.md.
import * as echarts from 'echarts';
import { addedCpu, likeNoAuth, share } from './figures.js';
import { fmtBytes, fmtMs, fmtPct, fmtRps, fmtUs } from './format.js';
import { type Figure, fmtCost } from './noise.js';
import { BACKEND_NAMES, type BenchResults, type HttpRow } from './types.js';

/** One chart: its file name (without `.svg`), its caption and the SVG text. */
export interface Chart {
  name: string;
  title: string;
  svg: string;
}

const WIDTH = 860;
const SESSIONS = '#2563eb';
const JWT = '#d97706';
const JWT_UNCACHED = '#92400e';
const STORE = '#7c3aed';
const GREY = '#6b7280';
const LOGIN = '#0d9488';
const GOOD = '#16a34a';
const BAD = '#dc2626';
const FONT = { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif", fontSize: 12, color: '#111827' };

function render(option: Record<string, unknown>, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  chart.setOption({ animation: false, backgroundColor: '#ffffff', textStyle: FONT, ...option });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** The next round number at or above `x` (1, 2 or 5 times a power of ten). */
function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 5, 10].find((m) => m * p >= x) ?? 10) * p;
}

const heightFor = (bars: number, perBar = 28) => 84 + bars * perBar;

/** One bar: its category name, value, colour, label, and the legend group it belongs to (when the chart has a legend). */
interface Bar {
  name: string;
  value: number;
  color: string;
  label: string;
  group?: string;
}

/**
 * A horizontal bar chart, one bar per item (top to bottom in the given order), each with its own
 * colour and label. With a legend, each group is a series of its own, stacked so that every
 * category keeps a single bar slot (grouped series would each reserve a slot per category).
 */
function barChart(
  items: readonly Bar[],
  axisName: string,
  extra: { markLines?: { value: number; label: string }[]; legend?: { name: string; color: string }[] } = {},
): string {
  const reversed = [...items].reverse(); // ECharts draws a category axis bottom-up
  const legend = extra.legend ?? [];
  const groups = legend.length > 0 ? legend.map((l) => l.name) : [undefined];
  const markLine = extra.markLines
    ? {
        symbol: 'none',
        silent: true,
        lineStyle: { color: BAD, type: 'dashed' },
        label: { formatter: '{b}', position: 'end', ...FONT, color: BAD },
        data: extra.markLines.map((m) => ({ name: m.label, xAxis: m.value })),
      }
    : undefined;
  return render(
    {
      // Room for the category names, measured here: server-side rendering has no font metrics, and
      // its estimate cuts long names off at the left edge.
      grid: {
        left: 16 + Math.ceil(Math.max(...items.map((i) => i.name.length)) * 6.9),
        right: 130,
        top: (legend.length > 0 ? 34 : 10) + (markLine ? 22 : 0) + 6,
        bottom: 40,
        containLabel: false,
      },
      legend: legend.length > 0 ? { top: 6, itemGap: 24, data: legend.map((l) => l.name), textStyle: FONT } : undefined,
      xAxis: {
        type: 'value',
        name: axisName,
        nameLocation: 'middle',
        nameGap: 26,
        axisLabel: FONT,
        nameTextStyle: FONT,
        // A budget or goal line stays in view even when every bar is far below it.
        ...(extra.markLines
          ? { max: niceCeil(Math.max(...items.map((i) => i.value), ...extra.markLines.map((m) => m.value)) * 1.08) }
          : {}),
      },
      yAxis: { type: 'category', data: reversed.map((i) => i.name), axisLabel: FONT },
      series: groups.map((group, g) => ({
        type: 'bar',
        name: group,
        stack: 'one',
        barMaxWidth: 18,
        itemStyle: { color: legend[g]?.color ?? GREY },
        data: reversed.map((i) =>
          group === undefined || i.group === group
            ? { value: i.value, itemStyle: { color: i.color }, label: { show: true, position: 'right', formatter: i.label, ...FONT } }
            : '-',
        ),
        ...(g === 0 && markLine ? { markLine } : {}),
      })),
    },
    heightFor(items.length),
  );
}

const httpName = (r: HttpRow) =>
  r.kind === 'cookie' ? `cookie session, ${BACKEND_NAMES[r.backend ?? 'memory']}` : `JWT ${r.alg}, ${r.cached ? 'cached' : 'uncached'}`;
const httpColor = (r: HttpRow) => (r.kind === 'cookie' ? SESSIONS : r.cached ? JWT : JWT_UNCACHED);
const httpGroup = (r: HttpRow) => (r.kind === 'cookie' ? 'cookie session' : r.cached ? 'JWT, cached' : 'JWT, uncached');
const LEGEND = [
  { name: 'cookie session', color: SESSIONS },
  { name: 'JWT, cached', color: JWT },
  { name: 'JWT, uncached', color: JWT_UNCACHED },
];

/** Every chart the run has figures for. */
export function charts(r: BenchResults): Chart[] {
  const out: Chart[] = [];
  const routes = r.http.filter((x) => x.kind !== 'baseline' && x.ratio !== undefined && x.skipped === undefined);
  if (routes.length > 0) {
    const byRatio = [...routes].sort((a, b) => (b.ratio as number) - (a.ratio as number));
    out.push({
      name: 'route-throughput',
      title: 'Req/s kept on a protected route, as a share of the same server with no auth (higher is better)',
      svg: barChart(
        byRatio.map((x) => ({
          name: httpName(x),
          value: (x.ratio as number) * 100,
          color: httpColor(x),
          group: httpGroup(x),
          label: `${fmtPct(x.ratio as number)}${((f) => (f && likeNoAuth(f) ? ' (≈ no auth)' : ''))(share(x, r.http))} · ${fmtRps(x.rps as number)}/s`,
        })),
        '% of the no-auth route’s req/s',
        { legend: LEGEND },
      ),
    });
    const withCpu = routes.map((x) => ({ x, f: addedCpu(x, r.http) })).filter((c): c is { x: HttpRow; f: Figure } => c.f !== undefined);
    if (withCpu.length > 0) {
      out.push({
        name: 'route-cpu',
        title: 'CPU added per request by authentication: server process and stores, over the no-auth route (lower is better)',
        svg: barChart(
          withCpu
            .sort((a, b) => a.f.value - b.f.value)
            .map(({ x, f }) => ({
              name: httpName(x),
              // A cost below its baseline is drawn as no bar, labelled "≤ noise", never as a negative one.
              value: Math.max(0, f.value),
              color: httpColor(x),
              group: httpGroup(x),
              label: fmtCost(f, fmtUs, ' µs'),
            })),
          'µs of CPU per request',
          { legend: LEGEND },
        ),
      });
    }
  }
  const micro = r.micro.filter((x) => x.skipped === undefined && x.cpuUs !== undefined);
  if (micro.length > 0) {
    const total = (x: (typeof micro)[number]) => (x.cpuUs as number) + (x.storeCpuUs ?? 0);
    const sorted = [...micro].sort((a, b) => total(a) - total(b));
    out.push({
      name: 'cpu-per-operation',
      title: 'CPU per operation, in process: a token verification vs a session lookup (lower is better)',
      svg: barChart(
        sorted.map((x) => ({
          name: x.label,
          value: total(x),
          color: x.kind === 'lookup' ? SESSIONS : x.kind === 'verify-cached' ? JWT : JWT_UNCACHED,
          group: x.kind === 'lookup' ? 'session lookup' : x.kind === 'verify-cached' ? 'verify, cached' : 'verify, uncached',
          label: `${fmtUs(total(x))} µs${x.wallUs !== undefined && x.kind === 'lookup' ? ` (wall ${fmtUs(x.wallUs)} µs)` : ''}`,
        })),
        'µs of CPU per operation (this process + store server)',
        {
          legend: [
            { name: 'session lookup', color: SESSIONS },
            { name: 'verify, cached', color: JWT },
            { name: 'verify, uncached', color: JWT_UNCACHED },
          ],
        },
      ),
    });
  }
  const rev = r.revocation.filter((x) => x.p99Ms !== undefined);
  if (rev.length > 0) {
    const items = rev.flatMap((x) => [
      {
        name: `JWT, ${x.feed === 'sse' ? 'SSE' : 'Redis'} feed: p50`,
        value: x.p50Ms as number,
        color: JWT,
        label: `${fmtMs(x.p50Ms as number)} ms`,
      },
      {
        name: `JWT, ${x.feed === 'sse' ? 'SSE' : 'Redis'} feed: p99`,
        value: x.p99Ms as number,
        color: JWT_UNCACHED,
        label: `${fmtMs(x.p99Ms as number)} ms`,
      },
    ]);
    if (r.cookieRevocation) {
      items.unshift({
        name: 'cookie session: next request',
        value: 0,
        color: SESSIONS,
        label: `${r.cookieRevocation.acceptedAfterLogout}/${r.cookieRevocation.samples} accepted after logout`,
      });
    }
    out.push({
      name: 'revocation',
      title: 'Logout → refused: how long a logged-out credential still works (lower is better)',
      svg: barChart(items, 'ms from sending the logout to the first refusal', {
        markLines: [{ value: r.budgets.revocationP99Ms, label: `${r.budgets.revocationP99Ms} ms goal (p99)` }],
      }),
    });
  }
  if (r.sizes.length > 0) {
    out.push({
      name: 'sizes',
      title: 'Bytes per request: the credential against the cookie and header budgets (lower is better)',
      svg: barChart(
        r.sizes.map((x) => ({
          name: x.label,
          value: x.bytes,
          color: x.kind === 'cookie' ? SESSIONS : x.kind === 'jwe' ? STORE : JWT,
          group: x.kind === 'cookie' ? 'session cookie' : x.kind === 'jwe' ? 'encrypted token' : 'signed token',
          label: fmtBytes(x.bytes),
        })),
        'bytes',
        {
          markLines: [
            { value: r.budgets.cookieBytes, label: `${fmtBytes(r.budgets.cookieBytes)} cookie` },
            { value: r.budgets.headerBytes, label: `${fmtBytes(r.budgets.headerBytes)} headers` },
          ],
          legend: [
            { name: 'session cookie', color: SESSIONS },
            { name: 'signed token', color: JWT },
            { name: 'encrypted token', color: STORE },
          ],
        },
      ),
    });
  }
  const tp = r.throughput.filter((x) => x.rps !== undefined);
  if (tp.length > 0) {
    out.push({
      name: 'login-refresh',
      title: 'Login and refresh throughput at the auth server (higher is better)',
      svg: barChart(
        tp.map((x) => ({
          name: x.label,
          value: x.rps as number,
          color: x.op === 'login' ? LOGIN : JWT,
          group: x.op === 'login' ? 'password login' : 'refresh rotation',
          label: `${fmtRps(x.rps as number)}/s`,
        })),
        'requests per second',
        {
          legend: [
            { name: 'password login', color: LOGIN },
            { name: 'refresh rotation', color: JWT },
          ],
        },
      ),
    });
  }
  if (r.outage) {
    const o = r.outage;
    out.push({
      name: 'outage',
      title: `Auth server killed (SIGKILL): requests that still succeeded, of ${o.requests} each (higher is better)`,
      svg: barChart(
        [
          { name: 'JWT at the resource service', value: o.jwtOk, color: o.jwtOk > 0 ? GOOD : BAD, label: `${o.jwtOk}/${o.requests}` },
          {
            name: 'cookie at the auth server',
            value: o.cookieOk,
            color: o.cookieOk > 0 ? GOOD : BAD,
            label: `${o.cookieOk}/${o.requests}`,
          },
        ],
        'requests that succeeded',
      ),
    });
  }
  return out;
}
