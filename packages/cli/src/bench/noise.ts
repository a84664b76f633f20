// How sure a comparison of the report is. Every figure's uncertainty comes from the run itself:
// half the range of its values across the interleaved rounds, and for a gap between two rows
// half the range of the gap taken round by round (both rows measured in the same round, so a
// slow phase of the machine moves both). A run of one round has no spread, so it cannot tell a
// gap from noise, and says so instead of naming a winner.
import { fmtUs } from './format.js';
import { median } from './lib/stats.js';

/** A figure of the run and its uncertainty (±); `pm` is undefined when the run cannot tell (a single round). */
export interface Figure {
  value: number;
  pm: number | undefined;
}

/** Half the range of `xs`: undefined for fewer than two values. */
export function spread(xs: readonly number[] | undefined): number | undefined {
  if (xs === undefined || xs.length < 2) return undefined;
  return (Math.max(...xs) - Math.min(...xs)) / 2;
}

/** The larger of two uncertainties, either of which may be unknown. */
export function wider(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * `a − b` round by round: the median gap and half its range. Rounds are paired by index (the
 * shorter series sets the count); undefined when either series is missing.
 */
export function pairedGap(a: readonly number[] | undefined, b: readonly number[] | undefined): Figure | undefined {
  if (a === undefined || b === undefined) return undefined;
  const n = Math.min(a.length, b.length);
  if (n === 0) return undefined;
  const gaps = Array.from({ length: n }, (_, i) => (a[i] as number) - (b[i] as number));
  return { value: median(gaps), pm: spread(gaps) };
}

/** True when a gap cannot be told from zero: inside its uncertainty. False when the run cannot tell (check `pm` first). */
export function withinNoise(f: Figure): boolean {
  return f.pm !== undefined && Math.abs(f.value) <= f.pm;
}

/** True when a cost cannot be told from zero: at or below zero (below its baseline), or inside its uncertainty. */
export function costWithinNoise(f: Figure): boolean {
  return f.value <= (f.pm ?? 0);
}

/** `12.3 ± 1.20 µs` with `fmt` writing both numbers and `unit` after them; the bare figure when the run cannot tell. */
export function fmtFigure(f: Figure, fmt: (x: number) => string = fmtUs, unit = ''): string {
  return f.pm === undefined ? `${fmt(f.value)}${unit}` : `${fmt(f.value)} ± ${fmt(f.pm)}${unit}`;
}

/**
 * A cost that is zero or inside its noise reads `≤ noise (±x)`, never `0.00`: a clamped or
 * negative difference says the row's cost could not be told from the baseline's, not that it is free.
 */
export function fmtCost(f: Figure, fmt: (x: number) => string = fmtUs, unit = ''): string {
  if (!costWithinNoise(f)) return fmtFigure(f, fmt, unit);
  return f.pm === undefined ? '≤ noise' : `≤ noise (±${fmt(f.pm)}${unit})`;
}
