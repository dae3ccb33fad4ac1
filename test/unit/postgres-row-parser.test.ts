import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { loadRowParser } from '../../src/dialect/postgres/postgres-row-parser.js';

// pg-protocol's own Parser, the copy pg loads: the reference the faster one must match message for message.
const fromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
const { Parser } = fromPg('pg-protocol/dist/parser') as { Parser: new () => { parse(b: Buffer, cb: (m: unknown) => void): void } };

function message(code: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function dataRow(fields: (Buffer | null)[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(2)];
  (parts[0] as Buffer).writeInt16BE(fields.length);
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(field === null ? -1 : field.length);
    parts.push(length);
    if (field !== null) parts.push(field);
  }
  return message('D', Buffer.concat(parts));
}

const commandComplete = (tag: string) => message('C', Buffer.from(`${tag}\0`));

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Short and long fields; 'x' * 5000 makes some rows larger than the size decoded as one string.
const SAMPLES = [
  '',
  '0',
  '-2147483648',
  'name 42',
  'héllo',
  '日本語',
  '🙂 emoji',
  'a'.repeat(300),
  `${'b'.repeat(200)}é`,
  '\u0000\u007f',
  'x'.repeat(5000),
];

function randomField(next: () => number): Buffer | null {
  const pick = next();
  if (pick < 0.1) return null;
  if (pick < 0.2) return Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256))); // any bytes, invalid UTF-8 too
  return Buffer.from(SAMPLES[Math.floor(next() * SAMPLES.length)] as string, 'utf8');
}

function parseAll(parser: { parse(b: Buffer, cb: (m: unknown) => void): void }, stream: Buffer, chunkSizes: number[]): unknown[] {
  const messages: unknown[] = [];
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const size = chunkSizes[i++ % chunkSizes.length] as number;
    // A fresh copy per chunk, as a socket gives: the parser may write into a chunk it still holds.
    parser.parse(Buffer.from(stream.subarray(at, at + size)), (m) => messages.push(m));
    at += size;
  }
  return messages;
}

describe('the faster DataRow reader', () => {
  const RowParser = loadRowParser();

  it('loads against the pg-protocol that pg uses (else Spillway would silently fall back to the slower one)', () => {
    assert.notEqual(RowParser, null);
  });

  it('returns the same messages as pg-protocol for rows of ASCII, UTF-8, invalid bytes and NULLs, however the socket splits them', () => {
    if (RowParser === null) return assert.fail('RowParser did not load');
    const next = random(20261123);
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = [];
      const rows = 1 + Math.floor(next() * 20);
      for (let r = 0; r < rows; r++) {
        parts.push(dataRow(Array.from({ length: Math.floor(next() * 6) }, () => randomField(next))));
      }
      parts.push(commandComplete(`SELECT ${rows}`));
      const stream = Buffer.concat(parts);
      const chunkSizes = [1 + Math.floor(next() * 64), stream.length, 1 + Math.floor(next() * 7)];
      const expected = parseAll(new Parser(), stream, chunkSizes);
      const actual = parseAll(new RowParser(), stream, chunkSizes);
      assert.equal(actual.length, rows + 1);
      assert.deepEqual(actual, expected, `round ${round}`);
    }
  });

  it('decodes a field that is ASCII but for its last byte as UTF-8, not latin1', () => {
    if (RowParser === null) return assert.fail('RowParser did not load');
    const [row] = parseAll(new RowParser(), dataRow([Buffer.from('abc'), Buffer.from('xyzé')]), [1024]) as { fields: string[] }[];
    assert.deepEqual(row?.fields, ['abc', 'xyzé']);
  });
});
