import type { Client } from 'pg';

/** pg's own conversion of a JS value to a text parameter (Dates, arrays, objects, toPostgres). */
type PrepareValue = (value: unknown) => string | Buffer | null;
let prepareValueModule: Promise<PrepareValue> | undefined;
/** pg's exports map opens lib/*; @types/pg does not describe this module, hence the untyped specifier. */
const PG_UTILS: string = 'pg/lib/utils.js';
/** Loaded with pg, never before: the dialect is only loaded when a postgres:// URL asks for it. */
function loadPrepareValue(): Promise<PrepareValue> {
  prepareValueModule ??= import(PG_UTILS).then((m: unknown) => {
    const utils = ((m as { default?: unknown }).default ?? m) as { prepareValue: PrepareValue };
    return utils.prepareValue;
  });
  return prepareValueModule;
}

/** Rows encoded per piece of COPY data: large enough to amortise a write, small enough to stream. */
const ROWS_PER_PIECE = 2000;
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One COPY text-format field: the value as pg would send it as a text parameter, with backslash,
 * newline, carriage return and tab escaped; NULL is `\N`. No SQL is parsed from the data, and every
 * character a field could end on is escaped, so a value can only ever be that column's value.
 */
function field(value: unknown, prepareValue: PrepareValue): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = String(value);
  else {
    const prepared = prepareValue(value);
    if (prepared === null) return '\\N';
    // A toPostgres() that returns a Buffer would be bound as binary; COPY's text cannot carry that.
    if (typeof prepared !== 'string') throw new TypeError('a value became binary data, which COPY text cannot carry');
    text = prepared;
  }
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, (c) => ESCAPED[c]!) : text;
}

function encodePiece(values: readonly unknown[], width: number, fromRow: number, toRow: number, prepareValue: PrepareValue): Buffer {
  const lines: string[] = new Array(toRow - fromRow);
  for (let row = fromRow; row < toRow; row++) {
    const first = row * width;
    let line = field(values[first], prepareValue);
    for (let c = 1; c < width; c++) line += `\t${field(values[first + c], prepareValue)}`;
    lines[row - fromRow] = line;
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** The parts of pg's Connection a COPY FROM STDIN uses. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  stream: { writableNeedDrain?: boolean; once(event: 'drain', listener: () => void): unknown };
}

/**
 * `COPY ... FROM STDIN` as a pg submittable: pg hands it the connection when it is its turn, and
 * the rows go out in pieces as they are encoded, so the server inserts while the client encodes.
 * Resolves with the rows copied; rejects with the server's error (pg then sends the next query
 * only after the server's ReadyForQuery, and the server ignores copy data that arrives late).
 */
class CopyIn {
  readonly #text: string;
  readonly #values: readonly unknown[];
  readonly #width: number;
  readonly #prepareValue: PrepareValue;
  #rowCount = 0;
  #failed = false;
  readonly done: Promise<number>;
  #resolve!: (rowCount: number) => void;
  #reject!: (error: unknown) => void;

  constructor(text: string, values: readonly unknown[], width: number, prepareValue: PrepareValue) {
    this.#text = text;
    this.#values = values;
    this.#width = width;
    this.#prepareValue = prepareValue;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: CopyConnection): void {
    connection.query(this.#text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    const rows = this.#values.length / this.#width;
    let next = 0;
    const send = (): void => {
      try {
        while (next < rows && !this.#failed) {
          const to = Math.min(rows, next + ROWS_PER_PIECE);
          connection.sendCopyFromChunk(encodePiece(this.#values, this.#width, next, to, this.#prepareValue));
          next = to;
          if (connection.stream.writableNeedDrain === true && next < rows) {
            connection.stream.once('drain', send);
            return;
          }
        }
        if (!this.#failed) connection.endCopyFrom();
      } catch (error) {
        // A value pg cannot convert (a circular object): the server learns of it as a failed copy.
        this.#failed = true;
        (connection as CopyConnection & { sendCopyFail(message: string): void }).sendCopyFail('spillway: a value could not be encoded');
        this.#reject(error);
      }
    };
    send();
  }

  handleCommandComplete(message: { text?: string }): void {
    this.#rowCount = Number(/(\d+)$/.exec(message.text ?? '')?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    if (!this.#failed) this.#resolve(this.#rowCount);
  }

  /** pg calls this for the server's error (then forgets the query) and for a lost connection. */
  handleError(error: unknown): void {
    this.#failed = true;
    this.#reject(error);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Run `text` (a `COPY ... FROM STDIN`) on `client` with `values`, `width` per row, as its data. */
export async function copyFrom(client: Client, text: string, values: readonly unknown[], width: number): Promise<number> {
  const copy = new CopyIn(text, values, width, await loadPrepareValue());
  client.query(copy as never);
  return copy.done;
}
