// The run's figures with their uncertainties, as the verdicts, the tables and the charts read
// them: the CPU a route's authentication adds, the share of the no-auth req/s it keeps, the cost
// of an in-process operation, and the gaps between two of them. See noise.ts for where each ±
// comes from.
import { fmtPct } from './format.js';
import { type Figure, pairedGap, spread, wider } from './noise.js';
import type { HttpRow, MicroRow } from './types.js';

const baseOf = (row: HttpRow, rows: readonly HttpRow[]) => rows.find((r) => r.id === row.baseline);
const totalCpu = (r: HttpRow) => (r.serverCpuUs ?? 0) + (r.storeCpuUs ?? 0);

/** The CPU a row adds over its baseline, round by round. */
function addedRounds(row: HttpRow, rows: readonly HttpRow[]): number[] | undefined {
  return pairedGapSeries(row.roundsCpuUs, baseOf(row, rows)?.roundsCpuUs, (a, b) => a - b);
}

function pairedGapSeries(
  a: readonly number[] | undefined,
  b: readonly number[] | undefined,
  f: (a: number, b: number) => number,
): number[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  const n = Math.min(a.length, b.length);
  return n === 0 ? undefined : Array.from({ length: n }, (_, i) => f(a[i] as number, b[i] as number));
}

const cachedJwt = (rows: readonly HttpRow[]) => rows.filter((r) => r.kind === 'jwt' && r.cached && r.skipped === undefined);

function rawAdded(row: HttpRow, rows: readonly HttpRow[]): number | undefined {
  const base = baseOf(row, rows);
  if (row.serverCpuUs === undefined || base?.serverCpuUs === undefined) return undefined;
  return totalCpu(row) - totalCpu(base);
}

const defined = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);

/**
 * The cached JWT rows do the same work whatever the algorithm (a hash of the token and a map
 * lookup): how far apart they land is noise of this run that a few rounds may not show. Half
 * their range is the floor of every per-request CPU uncertainty.
 */
export function sameWorkCpuSpread(rows: readonly HttpRow[]): number | undefined {
  return spread(defined(cachedJwt(rows).map((r) => rawAdded(r, rows))));
}

/** The same floor for shares of the no-auth req/s. */
export function sameWorkShareSpread(rows: readonly HttpRow[]): number | undefined {
  return spread(defined(cachedJwt(rows).map((r) => r.ratio)));
}

/**
 * CPU per request that authentication adds over the no-auth route of the same server (server
 * process and stores), as the medians' difference: negative when the row measured below its
 * baseline, which {@link fmtCost} writes as `≤ noise`. Its ± is the spread of the per-round
 * difference, at least {@link sameWorkCpuSpread}.
 */
export function addedCpu(row: HttpRow, rows: readonly HttpRow[]): Figure | undefined {
  const value = rawAdded(row, rows);
  if (value === undefined) return undefined;
  return { value, pm: wider(spread(addedRounds(row, rows)), sameWorkCpuSpread(rows)) };
}

/** The gap `a − b` in added CPU, paired by round, its ± at least {@link sameWorkCpuSpread}. */
export function addedGap(a: HttpRow, b: HttpRow, rows: readonly HttpRow[]): Figure | undefined {
  const fa = addedCpu(a, rows);
  const fb = addedCpu(b, rows);
  if (fa === undefined || fb === undefined) return undefined;
  const paired = pairedGap(addedRounds(a, rows), addedRounds(b, rows));
  // A row below its baseline costs nothing measurable: it counts as 0, not as a negative cost.
  return { value: Math.max(0, fa.value) - Math.max(0, fb.value), pm: wider(paired?.pm, sameWorkCpuSpread(rows)) };
}

/** A row's req/s over its baseline's, round by round. */
function shareRounds(row: HttpRow, rows: readonly HttpRow[]): number[] | undefined {
  return pairedGapSeries(row.roundsRps, baseOf(row, rows)?.roundsRps, (a, b) => a / b);
}

/** The share of its server's no-auth req/s a row keeps, ± the spread across rounds, at least {@link sameWorkShareSpread}. */
export function share(row: HttpRow, rows: readonly HttpRow[]): Figure | undefined {
  if (row.ratio === undefined) return undefined;
  return { value: row.ratio, pm: wider(spread(shareRounds(row, rows)), sameWorkShareSpread(rows)) };
}

/**
 * The gap `a − b` between two shares, paired by round. A share above 100% is noise (no route
 * is faster for authenticating), so each share counts as at most 100% here.
 */
export function shareGap(a: HttpRow, b: HttpRow, rows: readonly HttpRow[]): Figure | undefined {
  if (a.ratio === undefined || b.ratio === undefined) return undefined;
  const cap = (xs: number[] | undefined) => xs?.map((x) => Math.min(1, x));
  const paired = pairedGap(cap(shareRounds(a, rows)), cap(shareRounds(b, rows)));
  return { value: Math.min(1, a.ratio) - Math.min(1, b.ratio), pm: wider(paired?.pm, sameWorkShareSpread(rows)) };
}

/** True when a share cannot be told from its server with no auth: above 100%, or within its ± of it. */
export function likeNoAuth(f: Figure): boolean {
  return f.value >= 1 || (f.pm !== undefined && 1 - f.value <= f.pm);
}

/** Percentage points (`12.3 points`). */
export const fmtPoints = (x: number) => `${(x * 100).toFixed(1)} points`;

/** A share with its ± in points; one that cannot be told from no auth says so first, instead of claiming more than 100%. */
export function fmtShare(f: Figure): string {
  const figure = f.pm === undefined ? fmtPct(f.value) : `${fmtPct(f.value)} ± ${(f.pm * 100).toFixed(1)} points`;
  return likeNoAuth(f) ? `indistinguishable from no auth (measured ${figure})` : figure;
}

/** An in-process operation's CPU: this process's, and the store server's for a remote store. */
export const opCpu = (r: MicroRow) => (r.cpuUs ?? 0) + (r.storeCpuUs ?? 0);

/** An in-process operation's CPU, ± the spread across its rounds. */
export function opFigure(r: MicroRow): Figure {
  return { value: opCpu(r), pm: spread(r.roundsCpuUs) };
}

/** The CPU gap `a − b` of two in-process operations, paired by round. */
export function opGap(a: MicroRow, b: MicroRow): Figure {
  return { value: opCpu(a) - opCpu(b), pm: pairedGap(a.roundsCpuUs, b.roundsCpuUs)?.pm };
}

/** The wall-time gap `a − b` of two in-process operations, paired by round. */
export function wallGap(a: MicroRow, b: MicroRow): Figure {
  return { value: (a.wallUs ?? 0) - (b.wallUs ?? 0), pm: pairedGap(a.roundsWallUs, b.roundsWallUs)?.pm };
}

/** An in-process operation's wall time, ± the spread across its rounds. */
export function wallFigure(r: MicroRow): Figure {
  return { value: r.wallUs ?? 0, pm: spread(r.roundsWallUs) };
}
