/** A column of {@link formatTable}: a header and how to read a cell from a row. */
export interface TableColumn<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | undefined;
  /** Right-align (numbers). Default false. */
  readonly alignRight?: boolean;
}

/** Formats rows as a plain-text table with a header line, columns separated by two spaces, ending in a newline. */
export function formatTable<T>(rows: readonly T[], columns: readonly TableColumn<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => String(column.value(row) ?? '-')));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  const render = (line: readonly string[]): string =>
    line
      .map((cell, i) => (columns[i]!.alignRight === true ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join('\n') + '\n';
}
