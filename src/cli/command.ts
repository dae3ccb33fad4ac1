/** One CLI command: its name and what it does. */
export interface Command {
  name: string;
  /** Runs the command; resolves to the process exit status. */
  run(argv: string[]): Promise<number>;
}

/** A command as main.ts lists it: loaded only when called, so `spillway status` never loads Fastify. */
export interface CommandEntry {
  name: string;
  /** One line for `spillway --help`. */
  summary: string;
  load(): Promise<Command>;
}
