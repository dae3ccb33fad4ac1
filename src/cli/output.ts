/**
 * Terminal output for the CLI: aligned tables and a progress bar. Written here rather than pulled
 * from a package because each is a few lines and the CLI should start fast with no extra install.
 */

/** Render rows as an aligned text table with a header line. */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === undefined || cell === null ? '-' : String(cell))));
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * A one-line progress bar on a TTY stream, redrawn in place. On a non-TTY stream (a pipe, a CI log)
 * it stays silent, so logs are not flooded with carriage returns.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #width: number;
  #lastDraw = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr, width = 30) {
    this.#stream = stream;
    this.#width = width;
  }

  /** Draw `fraction` (0..1) with a label; throttled to about 10 redraws a second. */
  update(fraction: number, label: string, force = false): void {
    if (!this.#stream.isTTY) return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * this.#width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(this.#width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`;
    this.#stream.write(
      `\r${bar} ${label}`.slice(0, (this.#stream.columns ?? 100) - 1).padEnd(Math.min(100, (this.#stream.columns ?? 100) - 1)),
    );
  }

  /** Finish the bar (full) and move to a new line; nothing on a non-TTY stream. */
  done(label: string): void {
    if (!this.#stream.isTTY) return;
    this.update(1, label, true);
    this.#stream.write('\n');
  }
}

/** Percentile of an ascending array (nearest rank); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Milliseconds for display: two decimals under 10 ms, one under 100, whole above. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}
