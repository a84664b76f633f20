/**
 * Where output goes: results on stdout (a table for people, JSON with `--json` for programs),
 * messages and warnings on stderr, so `tessera users list --json | jq` never sees a notice.
 */

/** The streams a command writes to; tests and the demo pass their own. */
export interface Output {
  /** A line of result (stdout). */
  out(line: string): void;
  /** A message for the person at the terminal (stderr). */
  info(line: string): void;
}

/** stdout and stderr of this process. */
export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  info: (line) => process.stderr.write(`${line}\n`),
};

/** What `JSON.stringify` leaves unescaped of {@link CONTROL}: DEL, the C1 controls, the bidi controls. */
const JSON_UNESCAPED_CONTROL = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Prints `value` as indented JSON on stdout, every control character in it escaped (see {@link printable}). */
export function printJson(output: Output, value: unknown): void {
  // Outside strings JSON holds none of these, so escaping them keeps the same JSON value.
  output.out(JSON.stringify(value, null, 2).replace(JSON_UNESCAPED_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates. */
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` with control characters shown as `\uXXXX`. Tables and fields print what others wrote (a
 * token's claims, a session's user agent): an escape sequence there must not drive the terminal
 * (clear it, retitle it, write the clipboard) nor a bidi override reorder what is shown.
 *
 * @example
 * printable('a\u001b[2J') // 'a\\u001b[2J'
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Terminal columns a string takes: code points, which is right for the emails and ids shown here. */
const width = (s: string): number => [...s].length;

/**
 * Rows as an aligned table under upper-case headings, two spaces between columns; the last
 * column is not padded, so no line ends in spaces.
 *
 * @example
 * table(['kid', 'state'], [['k1', 'current']]) // ['KID  STATE', 'k1   current']
 */
export function table(headings: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headings.map((h) => h.toUpperCase()), ...rows.map((row) => row.map(printable))];
  const widths = headings.map((_, i) => Math.max(...all.map((row) => width(row[i] ?? ''))));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd(),
  );
}

/** `label  value` lines with the values aligned, for one record. */
export function fields(pairs: readonly (readonly [string, string])[]): string[] {
  const shown = pairs.map(([label, value]) => [printable(label), printable(value)] as const);
  const w = Math.max(0, ...shown.map(([label]) => width(label)));
  return shown.map(([label, value]) => `${label}${' '.repeat(w - width(label))}  ${value}`.trimEnd());
}

/** A nullable value for a table cell. */
export const cell = (value: string | null | undefined): string => (value === null || value === undefined || value === '' ? '-' : value);
