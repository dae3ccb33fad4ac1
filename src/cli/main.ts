#!/usr/bin/env node
import { redactUrlsIn } from '../config/url.js';
/**
 * The `spillway` command line: serve, status, doctor, load, bench. Thin over the library: each
 * command parses its flags with node:util parseArgs and calls the public API or the service.
 * Exit status: 0 ok, 1 the work failed (or a critical finding), 2 the command was called wrongly.
 */
import { SpillwayError } from '../errors.js';
import { UsageError } from './args.js';
import type { CommandEntry } from './command.js';

const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the reference service with its endpoints and live dashboard',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  {
    name: 'status',
    summary: 'show a pool status and health (from --url or a running --service)',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'doctor',
    summary: 'check a database and the pool configuration against it',
    load: async () => (await import('./commands/doctor.js')).doctorCommand,
  },
  {
    name: 'load',
    summary: 'drive a running service with concurrent callers; print latency and errors',
    load: async () => (await import('./commands/load.js')).loadCommand,
  },
  {
    name: 'bench',
    summary: 'run the benchmark suites; write bench/RESULTS.md and an SVG chart',
    load: async () => (await import('./commands/bench.js')).benchCommand,
  },
];

const USAGE = `Usage: spillway <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Run "spillway <command> --help" for a command's options. Details: docs/cli.md`;

/** Run the CLI with `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    // Asked for help: stdout and success. Called with nothing: the same text as a usage error.
    (name === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command === undefined) {
      throw new UsageError(`spillway: unknown command "${name}"; accepted: ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    return await (await command.load()).run(rest);
  } catch (error) {
    process.stderr.write(`${describeFailure(name, error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

/** One line for a failure: no stack, no password (SPILLWAY_DEBUG=1 prints the stack too). */
export function describeFailure(command: string, error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (process.env.SPILLWAY_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof SpillwayError ? ` (${error.code})` : '';
  return `spillway ${command}: ${redactUrlsIn(message.split('\n')[0] ?? '')}${code}`;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`${describeFailure('', error)}\n`);
    process.exitCode = 1;
  },
);
