const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/**
 * How far `seconds` (a difference, positive in the future) is, in words, counted in the
 * largest whole unit and rounded down, as a clock-watcher would say it.
 *
 * @example
 * inWords(599) // 'in 9 minutes'
 * inWords(-3 * 3600 - 5) // '3 hours ago'
 */
export function inWords(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs < 1) return 'now';
  for (const [unit, size] of UNITS) {
    if (abs >= size) return relative.format(Math.sign(seconds) * Math.floor(abs / size), unit);
  }
  return 'now';
}

/** An ISO 8601 time for a NumericDate (seconds since the epoch), or null when out of range. */
export function isoOf(numericDate: number): string | null {
  const date = new Date(numericDate * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An ISO 8601 time without milliseconds, for tables: `2026-12-04T16:33:42Z`. */
export const shortTime = (iso: string | null): string => (iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z'));
