import type { Client } from 'pg';
import { loadProtocol, type PgProtocolParser, replaceMessageReader } from './pg-internals.js';

/**
 * A faster reader of PostgreSQL's DataRow messages for the clients Spillway opens.
 *
 * pg-protocol decodes every field of every row with its own `Buffer#toString` call, a crossing into
 * C++ that costs more than the rest of the field's handling together: in a 100-row select of three
 * columns it was about a fifth of the client's CPU (profiled with bench/multiplex.ts). Most fields are
 * ASCII (numbers, dates, identifiers, most text), and for ASCII bytes latin1 and UTF-8 give the same
 * string; so a row whose field is ASCII is decoded once as latin1 and each such field is a `substring`
 * of it, which V8 does without leaving JavaScript. A field with any byte above 0x7f is decoded as
 * UTF-8 on its own, exactly as pg-protocol does, and so is every field of a row over 4 KB (a field
 * cut from the row's string keeps that string alive). The fields handed to pg are the same strings either
 * way (test/unit/postgres-row-parser.test.ts compares both parsers byte for byte), so pg's type
 * parsers, row modes and user-set parsers see no difference.
 *
 * Everything but DataRow is still parsed by pg-protocol's own Parser, which this subclasses; it is the
 * copy pg itself loads (resolved from pg's folder), so the messages are the ones pg expects. Should
 * pg-protocol's layout ever change, {@link useFastRowParser} leaves the client as pg made it.
 */

const DATA_ROW = 0x44; // 'D'
const NULL_FIELD = -1;
/** Rows up to this size are decoded once and cut into fields (see readDataRowFields). */
const SHARED_ROW_TEXT_MAX_BYTES = 4096;

let rowParserClass: PgProtocolParser | null | undefined;

/** pg-protocol's Parser with the faster DataRow reader, or null where pg-protocol's layout is not the one known. */
export function loadRowParser(): PgProtocolParser | null {
  if (rowParserClass !== undefined) return rowParserClass;
  const protocol = loadProtocol();
  if (protocol === null) {
    rowParserClass = null;
    return null;
  }
  const { Parser, DataRowMessage } = protocol;
  rowParserClass = class RowParser extends Parser {
    override handlePacket(offset: number, code: number, length: number, bytes: Buffer): unknown {
      if (code !== DATA_ROW) return super.handlePacket(offset, code, length, bytes);
      // `length` counts its own four bytes: the body is [offset, offset + length - 4).
      return new DataRowMessage(length, readDataRowFields(bytes, offset, offset + length - 4));
    }
  };
  return rowParserClass;
}

/** The fields of one DataRow body, as pg-protocol would return them (strings, `null` for SQL NULL). */
export function readDataRowFields(bytes: Buffer, start: number, end: number): (string | null)[] {
  let at = start;
  const count = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
  at += 2;
  const fields = new Array<string | null>(count);
  // The row decoded once as latin1 (one byte, one character), made the first time an ASCII field needs it.
  let rowText: string | undefined;
  // A long field taken from the row's text keeps the whole row's string alive as long as it lives, so
  // large rows decode field by field, as pg-protocol does: there the per-field call is cheap anyway.
  const shared = end - start <= SHARED_ROW_TEXT_MAX_BYTES;
  for (let i = 0; i < count; i++) {
    const length =
      ((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    at += 4;
    if (length === NULL_FIELD) {
      fields[i] = null;
      continue;
    }
    const fieldEnd = at + length;
    let ascii = shared;
    for (let j = at; ascii && j < fieldEnd; j++) {
      if ((bytes[j] as number) > 0x7f) ascii = false;
    }
    if (ascii) {
      if (rowText === undefined) rowText = bytes.toString('latin1', start, end);
      fields[i] = rowText.substring(at - start, fieldEnd - start);
    } else {
      fields[i] = bytes.toString('utf8', at, fieldEnd);
    }
    at = fieldEnd;
  }
  return fields;
}

/**
 * Has `client` read the server's messages with the faster row parser. Called before `connect()`, on
 * this client alone, so that other pg clients in the process are untouched (see pg-internals.ts).
 */
export function useFastRowParser(client: Client): void {
  const RowParser = loadRowParser();
  if (RowParser !== null) replaceMessageReader(client, () => new RowParser());
}
