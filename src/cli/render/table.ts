// A plain text table for terminals: columns padded to their widest cell, a header, nothing clever.
export function renderTable(headers: string[], rows: string[][], options: { maxWidth?: number } = {}): string {
  const max = options.maxWidth ?? 48;
  const cells = rows.map((row) => row.map((cell) => (cell.length > max ? `${cell.slice(0, max - 1)}…` : cell)));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n') + '\n';
}
