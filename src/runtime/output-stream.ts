// Where a command or a long-running job writes text: the process's stdout/stderr, or a test's buffer. Shared by the
// CLI (src/cli/cli-context.ts) and the scanner's progress display (src/scan/reporters/progress-bar.ts), so neither
// imports the other.
export interface OutputStream {
  write(text: string): void;
  /** True when a person is watching (progress bars, colour, `--reveal`). */
  isTTY?: boolean;
}
