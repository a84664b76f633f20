// Times and sizes as people read them. `now` and the locale are parameters, so tests pin them.

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/**
 * "just now", "3 minutes ago", "in 2 hours": the largest whole unit, rounded down.
 *
 * @example
 * relativeTime(Date.parse('2026-01-01T10:00:00Z'), Date.parse('2026-01-01T10:05:30Z')) // '5 minutes ago'
 */
export function relativeTime(at: number, now: number, locale?: string): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (abs >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(Math.sign(seconds), 'minute');
}

/** A date and time in the reader's locale: "4 Dec 2026, 16:40". */
export function dateTime(at: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/**
 * A countdown: "9:05", "1:02:03"; "0:00" once past.
 *
 * @example
 * countdown(65_000) // '1:05'
 */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** A wait in words, rounded up: "1 second", "45 seconds", "2 minutes", "1 hour". */
export function waitWords(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return plural(Math.max(1, Math.ceil(seconds)), 'second');
  if (seconds < 3600) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

/** "812 bytes", "4,096 bytes". */
export function bytes(n: number, locale?: string): string {
  return `${new Intl.NumberFormat(locale).format(n)} bytes`;
}
