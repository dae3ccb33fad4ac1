import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in how a command was called: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flag values as parseArgs returns them: booleans for boolean flags, strings for the rest. */
export interface ParsedCommand<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string } & { help?: boolean };
  positionals: string[];
}

/** What one command declares: its flags and its help text. */
export interface CommandSpec<O extends Options> {
  name: string;
  options: O;
  help: string;
  /** Whether the command takes positional arguments. */
  positionals?: boolean;
}

/**
 * Parse a command's arguments with node:util parseArgs (strict: unknown flags and missing values
 * throw), turning its errors into one-line UsageErrors that name the command. With `--help` it
 * prints the command's help and returns undefined: the caller then exits 0.
 */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, argv: string[]): ParsedCommand<O> | undefined {
  const parsed = parseStrict(spec, argv);
  if (parsed.values.help) {
    process.stdout.write(`${spec.help}\n`);
    return undefined;
  }
  return parsed;
}

function parseStrict<O extends Options>(spec: CommandSpec<O>, argv: string[]): ParsedCommand<O> {
  try {
    return parseArgs({
      args: joinNegativeValues(spec.options, argv),
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: spec.positionals ?? false,
    }) as ParsedCommand<O>;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '') : String(error);
    // parseArgs calls a value that starts with a dash "ambiguous": it may be a forgotten value.
    const ambiguous = /^Option '(--[^' ]+)' argument is ambiguous/.exec(message);
    if (ambiguous !== null) {
      const flag = ambiguous[1];
      throw new UsageError(`spillway ${spec.name}: ${flag} needs a value; write ${flag}=VALUE for one that starts with a dash`);
    }
    throw new UsageError(`spillway ${spec.name}: ${message}; see spillway ${spec.name} --help`);
  }
}

/**
 * `--concurrency -1` as `--concurrency=-1`: parseArgs refuses a separate value that starts with a
 * dash, but a negative number is plainly a value, and the flag's own check then says what it accepts.
 */
function joinNegativeValues(options: Options, argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** A whole number in [min, max] given as flag `--name`, or `fallback` when absent. */
export function intFlag(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
    throw new UsageError(`spillway ${command}: --${name}=${value} is invalid; accepted: ${range}`);
  }
  return parsed;
}

/** A duration in seconds (fractions allowed) given as `--name`, returned in milliseconds. */
export function secondsFlag(command: string, name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const parsed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(parsed) || parsed <= 0) {
    throw new UsageError(`spillway ${command}: --${name}=${value} is invalid; accepted: seconds > 0 (for example 10 or 0.5)`);
  }
  return Math.round(parsed * 1000);
}

/** An http(s) base URL given as `--name`, without a trailing slash. */
export function httpUrlFlag(command: string, name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`spillway ${command}: --${name}=${value} is not a URL; expected http://host:port`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`spillway ${command}: --${name}=${value} must start with http:// or https://`);
  }
  return value.replace(/\/+$/, '');
}
