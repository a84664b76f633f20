// Tables printed at the end of a run. Columns are padded to their widest cell so a run's output
// can be read (and diffed against an earlier one) as is; numbers align right, names left.

/** How to lay out a table. */
export interface TableOptions {
  /** Indexes of the columns aligned left (names, descriptions); every other column aligns right. */
  left: readonly number[];
}

function widthsOf(cells: readonly (readonly string[])[]): number[] {
  return (cells[0] ?? []).map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
}

function pad(row: readonly string[], widths: readonly number[], left: readonly number[]): string[] {
  return row.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)));
}

/**
 * A Markdown table (`| a | b |`), the header being `cells[0]`: the lines to print, pasteable
 * into the docs as they are.
 *
 * @example markdownTable([['row', 'req/s'], ['GET /healthz', '41795']], { left: [0] })
 */
export function markdownTable(cells: readonly (readonly string[])[], options: TableOptions): string[] {
  const widths = widthsOf(cells);
  const line = (row: readonly string[]) => `| ${pad(row, widths, options.left).join(' | ')} |`;
  const [header, ...body] = cells;
  return [line(header ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
}

/**
 * A plain table, columns two spaces apart under a dashed rule, the header being `cells[0]`. Rows
 * for which `group` changes are set apart by an empty line.
 */
export function plainTable(
  cells: readonly (readonly string[])[],
  options: TableOptions & { group?: (row: readonly string[]) => string },
): string[] {
  const widths = widthsOf(cells);
  const line = (row: readonly string[]) => pad(row, widths, options.left).join('  ');
  const [header, ...body] = cells;
  const lines = [line(header ?? []), widths.map((w) => '-'.repeat(w)).join('  ')];
  let previous: string | undefined;
  for (const row of body) {
    const group = options.group?.(row);
    if (previous !== undefined && group !== previous) lines.push('');
    previous = group;
    lines.push(line(row));
  }
  return lines;
}
