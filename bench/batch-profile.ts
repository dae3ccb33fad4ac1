/**
 * Where a batch insert's time goes on a client/server dialect: wall time, this process's CPU (the
 * client: validation, encoding, the driver) and the server's CPU, for the same rows sent several
 * ways, interleaved. The server's CPU is read from /proc, so it needs the server on this machine:
 * PostgreSQL's backend serving the benchmark's one connection; for MySQL the whole mariadbd/mysqld
 * process (other clients' work included). Contenders: Spillway's batchInsert and row-by-row
 * INSERTs in one transaction (as bench/batch.ts), and the driver alone sending other shapes.
 *
 * Run: npx tsx bench/batch-profile.ts --dialect mysql|postgres [--rows 100000] [--rounds 3] [--row-by-row 20000]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Session } from '../dist/index.js';
import { createPool } from '../dist/index.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'mysql' },
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    // Row by row is slow; a smaller count, scaled up, keeps the run short (it is linear in rows).
    'row-by-row': { type: 'string', default: '20000' },
  },
});
const ROWS = Number(args.rows);
const ROW_BY_ROW = Math.min(ROWS, Number(args['row-by-row']));
const POSTGRES = args.dialect === 'postgres';
if (!POSTGRES && args.dialect !== 'mysql') throw new Error('--dialect must be mysql or postgres');
const url = POSTGRES
  ? (process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
  : (process.env.SPILLWAY_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test');

const rows = Array.from({ length: ROWS }, (_, i) => ({
  name: `customer ${i} ünïcode`,
  email: `c${i}@example.com`,
  score: i % 1000,
  note: i % 7 === 0 ? null : 'x'.repeat(i % 50),
}));
const columns = ['name', 'email', 'score', 'note'];
const table = `bench_batch_profile_${process.pid}`;
// One connection, so PostgreSQL's work all happens in one backend.
const db = createPool({ url, size: 1, maxOverflow: 0, env: {}, name: 'bench-batch-profile' });

/** CPU time (ms) of process `pid` from /proc; NaN when it cannot be read. */
function cpuMs(pid: string | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerSecond = 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

async function serverPid(): Promise<string | undefined> {
  if (POSTGRES) return String((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  try {
    return execFileSync('pgrep', ['-o', '-x', 'mariadbd|mysqld']).toString().trim();
  } catch {
    return undefined;
  }
}

const placeholder = (i: number): string => (POSTGRES ? `$${i}` : '?');
const insertSql = (n: number): string => {
  const tuples = Array.from({ length: n }, (_, r) => `(${columns.map((_, c) => placeholder(r * columns.length + c + 1)).join(', ')})`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
};
const values = (from: number, to: number): unknown[] => rows.slice(from, to).flatMap((r) => [r.name, r.email, r.score, r.note]);
const call = (fn: (cb: (error: Error | null, result: unknown) => void) => void): Promise<unknown> =>
  new Promise((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result))));

interface RawMysql {
  query(options: object, cb: (error: Error | null, result: unknown) => void): void;
  execute(options: object, cb: (error: Error | null, result: unknown) => void): void;
  unprepare(sql: string): void;
}

/** The driver alone on Spillway's connection, in one transaction, `perStatement` rows at a time. */
function driverAlone(
  send: (tx: Session, sql: string, params: unknown[]) => Promise<unknown>,
  perStatement: number,
  after?: (tx: Session, texts: Set<string>) => void,
) {
  return () =>
    db.transaction(async (tx) => {
      const texts = new Set<string>();
      for (let i = 0; i < ROWS; i += perStatement) {
        const sql = insertSql(Math.min(perStatement, ROWS - i));
        texts.add(sql);
        await send(tx, sql, values(i, i + perStatement));
      }
      after?.(tx, texts);
    });
}
const mysqlQuery = (tx: Session, sql: string, params: unknown[]) =>
  call((cb) => (tx.connection as RawMysql).query({ sql, values: params }, cb));
const mysqlExecute = (tx: Session, sql: string, params: unknown[]) =>
  call((cb) => (tx.connection as RawMysql).execute({ sql, values: params }, cb));
const unprepare = (tx: Session, texts: Set<string>) => {
  for (const sql of texts) (tx.connection as RawMysql).unprepare(sql);
};

const contenders = new Map<string, { run: () => Promise<unknown>; rows: number }>([
  [
    `Spillway batchInsert${POSTGRES ? ' (COPY)' : ' (prepared, 500 rows per statement)'}`,
    { run: () => db.batchInsert(table, rows), rows: ROWS },
  ],
  [
    'Spillway row by row, one transaction',
    {
      run: () =>
        db.transaction(async (tx) => {
          const sql = insertSql(1);
          for (let i = 0; i < ROW_BY_ROW; i++) await tx.query(sql, values(i, i + 1));
        }),
      rows: ROW_BY_ROW,
    },
  ],
]);
if (POSTGRES) {
  contenders.set('pg, one array per column (unnest), 50,000 rows per statement', {
    run: () =>
      db.transaction(async (tx) => {
        for (let i = 0; i < ROWS; i += 50_000) {
          const slice = rows.slice(i, i + 50_000);
          await tx.query(
            `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[])`,
            [slice.map((r) => r.name), slice.map((r) => r.email), slice.map((r) => r.score), slice.map((r) => r.note)],
          );
        }
      }),
    rows: ROWS,
  });
  contenders.set('pg, VALUES at the bind limit (16,383 rows per statement)', {
    run: driverAlone((tx, sql, params) => tx.query(sql, params), 16_383),
    rows: ROWS,
  });
} else {
  contenders.set('mysql2 query (client-side escaping), 2,000 rows per statement', { run: driverAlone(mysqlQuery, 2000), rows: ROWS });
  for (const perStatement of [500, 2000, 8000]) {
    contenders.set(`mysql2 execute (prepared), ${perStatement.toLocaleString('en')} rows per statement`, {
      run: driverAlone(mysqlExecute, perStatement, unprepare),
      rows: ROWS,
    });
  }
}

const tsv = rows.map((r) => [r.name, r.email, r.score, r.note ?? '\\N'].join('\t')).join('\n');
const loadData = (): Promise<unknown> =>
  db.withConnection(async (session) => {
    const sql = `LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE ${table} CHARACTER SET utf8mb4 (${columns.join(', ')})`;
    await call((cb) => (session.connection as RawMysql).query({ sql, infileStreamFactory: () => Readable.from([Buffer.from(tsv)]) }, cb));
  });

const reset = async (): Promise<void> => {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(
    POSTGRES
      ? `CREATE TABLE ${table} (id SERIAL PRIMARY KEY, name TEXT, email TEXT, score INTEGER, note TEXT)`
      : `CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT, email TEXT, score INTEGER, note TEXT) CHARACTER SET utf8mb4`,
  );
};

try {
  await reset();
  if (!POSTGRES) {
    try {
      await loadData();
      contenders.set('LOAD DATA LOCAL INFILE (no Spillway)', { run: loadData, rows: ROWS });
    } catch (error) {
      console.error(`no LOAD DATA contender: ${(error as Error).message}`);
    }
  }
  const pid = await serverPid();
  const results = await interleaved(Number(args.rounds), [...contenders.keys()], async (name) => {
    await reset();
    const clientBefore = process.cpuUsage();
    const serverBefore = cpuMs(pid);
    const started = performance.now();
    await contenders.get(name)!.run();
    const wallMs = performance.now() - started;
    const client = process.cpuUsage(clientBefore);
    return { wallMs, clientMs: (client.user + client.system) / 1000, serverMs: cpuMs(pid) - serverBefore };
  });
  console.log(
    `${machineLine()}; ${args.dialect}; rounds ${args.rounds} (medians), ${ROWS.toLocaleString('en')} rows (row by row: ${ROW_BY_ROW.toLocaleString('en')}, scaled)\n`,
  );
  console.log('| contender | wall ms | client CPU ms | server CPU ms |');
  console.log('|---|---|---|---|');
  for (const [name, samples] of results) {
    const scale = ROWS / contenders.get(name)!.rows;
    const m = (pick: (s: (typeof samples)[number]) => number): string => (median(samples.map(pick)) * scale).toFixed(0);
    console.log(
      `| ${name}${scale === 1 ? '' : ` (×${scale})`} | ${m((s) => s.wallMs)} | ${m((s) => s.clientMs)} | ${m((s) => s.serverMs)} |`,
    );
  }
} finally {
  await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await db.close();
}
