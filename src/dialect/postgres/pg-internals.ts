import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Client } from 'pg';

/**
 * The one gate to pg's private parts. Spillway relies on a few fields and methods of pg 8 that its
 * typings do not declare (`_queryable`, `_ending`, `_getActiveQuery`, `_queryQueue`, the connection's
 * `attachListeners` and `_emitMessage`, and pg-protocol's `dist/*` modules). Every access goes through
 * this file, so a pg release that moves them is fixed here, once. At load it checks pg's version
 * against the range this layout was verified on (package.json `spillway.pgInternals`), and
 * test/unit/pg-internals.test.ts fails loudly when the installed pg's shape differs.
 *
 * Outside the range the behaviour degrades safely rather than failing: the faster row parser stays
 * off (pg parses rows itself), and one warning (code SPILLWAY_PG_VERSION) says so.
 */

/** The private fields and methods of pg's Client read here (pg 8). */
interface PgClientPrivate {
  _queryable?: boolean;
  _ending?: boolean;
  _getActiveQuery?(): unknown;
  _queryQueue?: unknown[];
  connection?: PgConnectionPrivate;
}

/** The parts of pg's Connection replaced or read here (pg 8): its socket and its listener on it. */
interface PgConnectionPrivate {
  stream?: { destroy(): void };
  _emitMessage?: boolean;
  attachListeners?(stream: NodeJS.ReadableStream): void;
  emit(event: string, message: unknown): boolean;
}

/** pg-protocol's Parser (dist/parser) as subclassed by the row parser. */
export type PgProtocolParser = new () => {
  parse(buffer: Buffer, callback: (message: unknown) => void): void;
  handlePacket(offset: number, code: number, length: number, bytes: Buffer): unknown;
};

/** pg-protocol's DataRowMessage (dist/messages). */
export type PgDataRowMessage = new (length: number, fields: (string | null)[]) => unknown;

const fromHere = createRequire(import.meta.url);

/** Where pg resolves its own dependencies from: the pg-protocol copy pg itself loads. */
function fromPg(): NodeRequire {
  return createRequire(fromHere.resolve('pg'));
}

/** The version in pg's package.json: the nearest one above its entry file that is pg's. */
function pgVersion(): string {
  for (let dir = dirname(fromHere.resolve('pg')), depth = 0; depth < 4; dir = dirname(dir), depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'pg') return String(manifest.version ?? '');
    } catch {
      // no package.json at this level: look one up
    }
  }
  return '';
}

/** `>=A.B.C <D` (the form package.json pins): whether `version` is inside. */
export function inRange(version: string, range: string): boolean {
  const match = /^>=(\d+)\.(\d+)\.(\d+)\s+<(\d+)$/.exec(range.trim());
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null || parts === null) return false;
  const [a, b, c] = [1, 2, 3].map((i) => Number(parts[i]));
  const [ma, mb, mc, below] = [1, 2, 3, 4].map((i) => Number(match[i]));
  if ((a as number) >= (below as number)) return false;
  if (a !== ma) return (a as number) > (ma as number);
  if (b !== mb) return (b as number) > (mb as number);
  return (c as number) >= (mc as number);
}

/** pg's installed version and the range its private layout was verified on. */
export function pgVersionCheck(): { version: string; range: string; supported: boolean } {
  let range = '';
  let version = '';
  try {
    range = String((fromHere('../../../package.json') as { spillway?: { pgInternals?: string } }).spillway?.pgInternals ?? '');
    version = pgVersion();
  } catch {
    // pg not installed (only SQLite or MySQL in use): nothing here is reached.
  }
  return { version, range, supported: version !== '' && inRange(version, range) };
}

const CHECK = pgVersionCheck();
if (CHECK.version !== '' && !CHECK.supported) {
  process.emitWarning(
    `pg ${CHECK.version} is outside the range Spillway's use of pg internals was verified on (${CHECK.range}); ` +
      'the faster row parser is off. Please report it.',
    { code: 'SPILLWAY_PG_VERSION' },
  );
}

/** Whether pg's private layout is the one verified (its version is in the pinned range). */
export const pgLayoutSupported: boolean = CHECK.supported;

const internals = (client: Client): PgClientPrivate => client as unknown as PgClientPrivate;

/** pg's own flags: queryable until the connection ends or breaks; ending once `end()` was called. */
export function clientFlags(client: Client): { queryable: boolean | undefined; ending: boolean | undefined } {
  const c = internals(client);
  return { queryable: c._queryable, ending: c._ending };
}

/** True while a statement runs (or waits to run) on the client. */
export function hasActiveQuery(client: Client): boolean {
  const c = internals(client);
  return (c._getActiveQuery?.() ?? null) !== null || (c._queryQueue?.length ?? 0) > 0;
}

/** Cut the client's socket at once: pg then fails what is queued and reports the client ended. */
export function destroySocket(client: Client): void {
  internals(client).connection?.stream?.destroy();
}

/** pg-protocol's Parser and DataRowMessage from the copy pg loads, or null when absent or of another shape. */
export function loadProtocol(): { Parser: PgProtocolParser; DataRowMessage: PgDataRowMessage } | null {
  if (!pgLayoutSupported) return null;
  try {
    const require = fromPg();
    const { Parser } = require('pg-protocol/dist/parser') as { Parser?: PgProtocolParser };
    const { DataRowMessage } = require('pg-protocol/dist/messages') as { DataRowMessage?: PgDataRowMessage };
    if (typeof Parser?.prototype?.handlePacket !== 'function' || typeof DataRowMessage !== 'function') return null;
    return { Parser, DataRowMessage };
  } catch {
    return null;
  }
}

/**
 * Read the client's socket with `parser` instead of pg's own (before `connect()`): pg 8's
 * `Connection#attachListeners`, replaced on this client's connection alone, delivering each message
 * as pg's listener does (`message` when `_emitMessage`, then the message's own event). False (and
 * nothing changed) when the connection is not of the known shape.
 */
export function replaceMessageReader(client: Client, makeParser: () => InstanceType<PgProtocolParser>): boolean {
  const connection = internals(client).connection;
  if (connection === undefined || typeof connection.attachListeners !== 'function') return false;
  connection.attachListeners = (stream) => {
    const parser = makeParser();
    const deliver = (message: unknown): void => {
      const name = (message as { name: string }).name;
      if (connection._emitMessage) connection.emit('message', message);
      connection.emit(name === 'error' ? 'errorMessage' : name, message);
    };
    stream.on('data', (buffer: Buffer) => parser.parse(buffer, deliver));
  };
  return true;
}
