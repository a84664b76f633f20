// How a comparison of the report is judged and written: who wins a measured gap once its
// uncertainty is known (a tie inside it), who wins an exact one, and the small helpers the
// headline table and the sentences share.
import { addedCpu, fmtShare, likeNoAuth } from './figures.js';
import { fmtPct, fmtTimes, fmtUs } from './format.js';
import { type Figure, fmtCost, fmtFigure, withinNoise } from './noise.js';
import { BACKEND_NAMES, type Backend, type HeadlineRow, type HttpRow, type Measured, type MicroRow } from './types.js';

/** Two exact figures (bytes, counts) within this factor (10%) are a tie. */
export const TIE_FACTOR = 1.1;

type Measurable = { skipped?: string };
/** The rows that ran (no `skipped`). */
export const ran = <T extends Measurable>(rows: readonly T[]): T[] => rows.filter((r) => r.skipped === undefined);

/** The element with the smallest `by`, or undefined. */
export function least<T>(xs: readonly T[], by: (x: T) => number): T | undefined {
  let best: T | undefined;
  for (const x of xs) if (best === undefined || by(x) < by(best)) best = x;
  return best;
}
/** The element with the largest `by`, or undefined. */
export const most = <T>(xs: readonly T[], by: (x: T) => number) => least(xs, (x) => -by(x));

/** "a, b and c". */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A store's display name. */
export const backendName = (b: Backend | undefined) => (b ? BACKEND_NAMES[b] : '');
/** µs with its unit (`72.5 µs`). */
export const us = (x: number) => `${fmtUs(x)} µs`;
/** A share as percentage points, the number alone (`12.3`). */
export const points = (x: number) => (x * 100).toFixed(1);
/** A figure in µs with its ± (`72.5 ± 3.10 µs`). */
export const usFig = (f: Figure) => fmtFigure(f, fmtUs, ' µs');
/** A cost in µs, `≤ noise` when it cannot be told from zero. */
export const usCost = (f: Figure) => fmtCost(f, fmtUs, ' µs');
/** Appended to every timed verdict of a `--quick` run. */
export const roughTag = (m: Measured) => (m.settings.quick ? '; rough (--quick)' : '');

/** A share in a sentence: "87.3% ± 2.1 points", or "a share indistinguishable from no auth (measured 104.0% ± 6.0 points)". */
export const keeps = (f: Figure) => (likeNoAuth(f) ? `a share ${fmtShare(f)}` : fmtShare(f));

/** The store a "JWT instead of a session lookup" claim is usually made against: Redis, else PostgreSQL, else SQLite, else memory. */
const REFERENCE_ORDER: readonly Backend[] = ['redis', 'postgres', 'sqlite', 'memory'];

/** The in-process lookup on the reference store. */
export function referenceLookup(micro: readonly MicroRow[]): MicroRow | undefined {
  const lookups = ran(micro).filter((r) => r.kind === 'lookup' && r.cpuUs !== undefined);
  for (const b of REFERENCE_ORDER) {
    const r = lookups.find((x) => x.backend === b);
    if (r) return r;
  }
  return undefined;
}

/** The cookie route on the reference store (the lookup's store when it has one), with its added CPU. */
export function referenceCookie(m: Measured, prefer?: Backend): HttpRow | undefined {
  const cookies = ran(m.http).filter((r) => r.kind === 'cookie' && addedCpu(r, m.http) !== undefined);
  for (const b of prefer ? [prefer, ...REFERENCE_ORDER] : REFERENCE_ORDER) {
    const r = cookies.find((x) => x.backend === b);
    if (r) return r;
  }
  return undefined;
}

/**
 * Who wins a comparison of exact figures (bytes) where less is better: a factor as the margin,
 * or the difference written with `unit` when the smaller figure is 0; a tie when both are 0 or
 * within {@link TIE_FACTOR}.
 */
export function lessWins(sessions: number, jwt: number, unit: (x: number) => string): { winner: HeadlineRow['winner']; margin: string } {
  const hi = Math.max(sessions, jwt);
  const lo = Math.min(sessions, jwt);
  if (hi === 0 || (lo > 0 && hi / lo < TIE_FACTOR)) return { winner: 'tie', margin: `within ${fmtPct(TIE_FACTOR - 1)}` };
  return { winner: jwt < sessions ? 'JWT' : 'sessions', margin: lo > 0 ? `${fmtTimes(hi / lo)} less` : `${unit(hi - lo)} less` };
}

/** What a gap inside its uncertainty is called. */
export const noDifference = (pm: string) => `no measurable difference on this machine (within ±${pm})`;

/**
 * Who wins a measured comparison where less is better, from the gap `sessions − jwt` and its
 * uncertainty: no winner when the run cannot tell (one round), a tie ("no measurable
 * difference") when the gap is inside its ±, else the smaller side, by the gap (and by a factor
 * when the smaller figure is itself above the noise). `fmt` writes a number, `unit` follows it.
 */
export function judgeLess(
  sessions: number,
  jwt: number,
  gap: Figure,
  fmt: (x: number) => string,
  unit: string,
  rough = '',
): { winner: HeadlineRow['winner']; margin: string } {
  if (gap.pm === undefined) return { winner: '—', margin: `one round: no spread to tell the gap from noise${rough}` };
  if (withinNoise(gap)) return { winner: 'tie', margin: `${noDifference(`${fmt(gap.pm)}${unit}`)}${rough}` };
  const lo = Math.min(sessions, jwt);
  const by = `${fmt(Math.abs(gap.value))} ± ${fmt(gap.pm)}${unit}`;
  return {
    winner: gap.value > 0 ? 'JWT' : 'sessions',
    margin: `${lo > gap.pm ? `${fmtTimes(Math.max(sessions, jwt) / lo)} less (by ${by})` : `${by} less`}${rough}`,
  };
}

/** A headline line with a side not measured: no winner. */
export const skippedRow = (question: string, sessions: string, jwt: string): HeadlineRow => ({
  question,
  sessions,
  jwt,
  winner: '—',
  margin: '—',
});
