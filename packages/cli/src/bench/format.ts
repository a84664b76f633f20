// How figures are written in the reports. One function per kind of figure, used by the tables,
// the sentences and the charts alike, so a number reads the same everywhere and the tests can
// rebuild a table cell from results.json.

/** Requests per second: a whole number with thousands separators (`12,345`). */
export function fmtRps(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/**
 * Microseconds: two decimals below 10, one below 100, whole above (`0.84`, `41.3`, `212`), so
 * small in-process costs keep their digits and large ones do not pretend to precision.
 */
export function fmtUs(x: number): string {
  if (Math.abs(x) < 10) return x.toFixed(2);
  if (Math.abs(x) < 100) return x.toFixed(1);
  return Math.round(x).toLocaleString('en-US');
}

/** Milliseconds, by the same rule as {@link fmtUs}. */
export function fmtMs(x: number): string {
  return fmtUs(x);
}

/** A share as a percentage with one decimal (`0.873` → `87.3%`). */
export function fmtPct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A factor (`2.4×`): one decimal, two below 2 so that `1.04×` is not rounded to `1.0×`. */
export function fmtTimes(x: number): string {
  return `${x < 2 ? x.toFixed(2) : x.toFixed(1)}×`;
}

/** Bytes (`1,234 B`). */
export function fmtBytes(x: number): string {
  return `${Math.round(x).toLocaleString('en-US')} B`;
}

/** `a` over `b` as the factor by which `a` exceeds `b`, or `b` exceeds `a`: always ≥ 1. */
export function factor(a: number, b: number): number {
  return a >= b ? a / b : b / a;
}
