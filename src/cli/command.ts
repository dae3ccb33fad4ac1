/** One CLI command: its name, a one-line summary for `spillway --help`, and what it does. */
export interface Command {
  name: string;
  summary: string;
  /** Runs the command; resolves to the process exit status. */
  run(argv: string[]): Promise<number>;
}
