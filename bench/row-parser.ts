/**
 * The faster DataRow reader (src/dialect/postgres/postgres-row-parser.ts) against pg-protocol's own
 * Parser, in one run:
 * 1. microbenchmark: the same DataRow messages (100 rows of id, name, timestamp; ASCII, then with
 *    accented text) parsed by both, ns per row, interleaved, median of the rounds;
 * 2. on/off over a real server: two pg clients side by side, one reading with the faster parser and one
 *    with pg's, running the same 100-row select, client CPU per statement (skipped without a server).
 *
 * Run (after `npm run build`): node --import tsx bench/row-parser.ts [--rows 200000] [--rounds 5] [--url postgres://...] [--json]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadProtocol } from '../dist/dialect/postgres/pg-internals.js';
import { loadRowParser, useFastRowParser } from '../dist/dialect/postgres/postgres-row-parser.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    statements: { type: 'string', default: '400' },
    url: { type: 'string', default: process.env.SPILLWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);

const protocol = loadProtocol();
const Fast = loadRowParser();
if (protocol === null || Fast === null) throw new Error('pg-protocol is not of the shape the row parser knows (see pg-internals.ts)');

function dataRow(fields: string[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(2)];
  (parts[0] as Buffer).writeInt16BE(fields.length);
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(5);
  header.write('D', 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** 100 rows as one socket read would carry them. */
function hundredRows(name: (i: number) => string): Buffer {
  return Buffer.concat(Array.from({ length: 100 }, (_, i) => dataRow([String(1000 + i), name(i), '2026-12-06 18:30:00.123+00'])));
}

const WORKLOADS: Record<string, Buffer> = {
  ascii: hundredRows((i) => `customer ${i}`),
  accented: hundredRows((i) => `clienté ${i}`),
};

/** ns of CPU per row to parse `ROWS` rows of `chunk` with a fresh parser of `Kind`. */
function parseRun(Kind: NonNullable<typeof Fast>, chunk: Buffer): number {
  const parser = new Kind();
  let rows = 0;
  const count = (): void => {
    rows++;
  };
  const cpu = process.cpuUsage();
  while (rows < ROWS) parser.parse(chunk, count);
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / rows;
}

const parsers = { 'pg-protocol': protocol.Parser, spillway: Fast };
const micro: Record<string, Record<string, number>> = {};
for (const [workload, chunk] of Object.entries(WORKLOADS)) {
  for (const Kind of Object.values(parsers)) parseRun(Kind, chunk); // warm-up (JIT)
  const results = await interleaved(ROUNDS, Object.keys(parsers), async (name) => parseRun(parsers[name as keyof typeof parsers], chunk));
  micro[workload] = Object.fromEntries([...results].map(([name, values]) => [name, median(values)]));
}

/** Client CPU (µs) per 100-row select over a real server, with the faster reader on or off. */
async function onOff(): Promise<Record<string, number> | undefined> {
  const open = async (fast: boolean): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: args.url });
    if (fast) useFastRowParser(client);
    await client.connect();
    return client;
  };
  let clients: Record<string, pg.Client>;
  try {
    clients = { off: await open(false), on: await open(true) };
  } catch (error) {
    console.error(`row-parser: no server at ${args.url} (${(error as Error).message}); on/off comparison skipped`);
    return undefined;
  }
  const text = "SELECT g AS id, 'customer ' || g AS name, now() AS at FROM generate_series(1, 100) g";
  const run = async (name: string): Promise<number> => {
    const client = clients[name] as pg.Client;
    const statements = Number(args.statements);
    const cpu = process.cpuUsage();
    for (let i = 0; i < statements; i++) await client.query({ text, rowMode: 'array' });
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / statements;
  };
  for (const name of ['off', 'on']) await run(name); // warm-up
  const results = await interleaved(ROUNDS, ['off', 'on'], run);
  await Promise.all(Object.values(clients).map((c) => c.end()));
  return Object.fromEntries([...results].map(([name, values]) => [name, median(values)]));
}
const server = await onOff();

if (args.json) {
  console.log(JSON.stringify({ bench: 'row-parser', machine: machineLine(), unit: 'ns/row', micro, server }));
} else {
  console.log(`DataRow parsing, ns of CPU per row (median of ${ROUNDS} interleaved runs of ${ROWS} rows); ${machineLine()}`);
  console.log('| rows | pg-protocol | spillway | spillway ÷ pg-protocol |');
  console.log('|---|---:|---:|---:|');
  for (const [workload, row] of Object.entries(micro)) {
    const ratio = (row.spillway as number) / (row['pg-protocol'] as number);
    console.log(
      `| ${workload} | ${(row['pg-protocol'] as number).toFixed(1)} | ${(row.spillway as number).toFixed(1)} | ${ratio.toFixed(2)} |`,
    );
  }
  if (server !== undefined) {
    console.log('');
    console.log(
      `Same run, over the server: client CPU µs per 100-row select (pg.Client, rowMode array, ${args.statements} statements per round)`,
    );
    console.log('| faster reader | µs per statement | on ÷ off |');
    console.log('|---|---:|---:|');
    console.log(`| off (pg's parser) | ${(server.off as number).toFixed(1)} | 1.00 |`);
    console.log(`| on | ${(server.on as number).toFixed(1)} | ${((server.on as number) / (server.off as number)).toFixed(2)} |`);
  }
}
