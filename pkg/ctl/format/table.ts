// Docker's table layout (Go's tabwriter with min width 10, padding 3): every column but the last padded.

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(Math.max(10, (widths[i] ?? 0) + 3))))
        .join(''),
    )
    .join('\n');
}
