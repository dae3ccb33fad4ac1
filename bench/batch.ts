/**
 * Set-at-a-time against one-at-a-time on each dialect: 100,000 rows inserted with batchInsert
 * against row-by-row INSERTs inside one transaction, and 10,000 ids read with batchSelectByIds
 * against a loop of single SELECTs on one connection. Medians of interleaved rounds; extra
 * "insert: ..." rows time other ways to insert the same rows (see insertBounds).
 *
 * Run: npx tsx bench/batch.ts [--rows 100000] [--ids 10000] [--rounds 3] [--dialects postgres,mysql,sqlite]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Database } from '../dist/database.js';
import { createPool } from '../dist/index.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    ids: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    dialects: { type: 'string', default: 'postgres,mysql,sqlite' },
  },
});
const ROWS = Number(args.rows);
const IDS = Number(args.ids);
const ROUNDS = Number(args.rounds);
const sqliteDir = mkdtempSync(join(tmpdir(), 'spillway-bench-batch-'));

const TARGETS: Record<string, { url: string; serial: string; suffix: string }> = {
  postgres: {
    url: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    serial: 'SERIAL PRIMARY KEY',
    suffix: '',
  },
  mysql: {
    url: process.env.SPILLWAY_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    serial: 'INT AUTO_INCREMENT PRIMARY KEY',
    suffix: ' CHARACTER SET utf8mb4',
  },
  sqlite: { url: `sqlite:${join(sqliteDir, 'bench.db')}`, serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', suffix: '' },
};

const rows = Array.from({ length: ROWS }, (_, i) => ({
  name: `customer ${i} ünïcode`,
  email: `c${i}@example.com`,
  score: i % 1000,
  note: i % 7 === 0 ? null : 'x'.repeat(i % 50),
}));

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function benchDialect(name: string): Promise<string[]> {
  const target = TARGETS[name]!;
  let db: Database;
  try {
    db = createPool({ url: target.url, size: 2, maxOverflow: 0, env: {}, name: 'bench-batch' });
    await db.query('SELECT 1');
  } catch (error) {
    return [`| ${name} | skipped: ${(error as Error).message} | | | | |`];
  }
  const table = `bench_batch_${process.pid}`;
  const columns = Object.keys(rows[0]!);
  const placeholders = columns.map((_, i) => db.dialect.placeholder(i + 1)).join(', ');
  const insertOne = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`;
  const reset = async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query(`CREATE TABLE ${table} (id ${target.serial}, name TEXT, email TEXT, score INTEGER, note TEXT)${target.suffix}`);
  };
  try {
    await reset();
    // Bounds measured in the same rounds, outside Spillway: what the database itself needs.
    const bounds = await insertBounds(name, db, table, columns);
    const insert = await interleaved(ROUNDS, ['batchInsert', 'row by row', ...bounds.keys()], async (contender) => {
      await reset();
      const bound = bounds.get(contender);
      if (bound !== undefined) return timed(bound);
      return timed(() =>
        contender === 'batchInsert'
          ? db.batchInsert(table, rows)
          : db.transaction(async (tx) => {
              for (const row of rows) await tx.query(insertOne, [row.name, row.email, row.score, row.note]);
            }),
      );
    });
    // Ids spread over the table, in random order, a tenth of them absent.
    const ids = Array.from({ length: IDS }, (_, i) => (i % 10 === 9 ? ROWS + 1 + i : 1 + Math.floor(Math.random() * ROWS)));
    const selectOne = `SELECT * FROM ${table} WHERE id = ${db.dialect.placeholder(1)}`;
    const select = await interleaved(ROUNDS, ['batchSelectByIds', 'single selects'], (contender) =>
      timed(() =>
        contender === 'batchSelectByIds'
          ? db.batchSelectByIds(table, ids)
          : db.withConnection(async (conn) => {
              for (const id of ids) await conn.query(selectOne, [id]);
            }),
      ),
    );
    // Each round runs both sides back to back, so its own ratio is less exposed to the machine's
    // drift than the ratio of medians taken from different moments.
    const line = (what: string, fast: number[], slow: number[]) =>
      `| ${name} | ${what} | ${median(fast).toFixed(0)} ms | ${median(slow).toFixed(0)} ms | ${(median(slow) / median(fast)).toFixed(1)}× | ${slow.map((s, i) => `${(s / fast[i]!).toFixed(1)}×`).join(' ')} |`;
    return [
      line(`insert ${ROWS.toLocaleString('en')} rows`, insert.get('batchInsert')!, insert.get('row by row')!),
      ...[...bounds.keys()].map((bound) => line(`insert: ${bound}`, insert.get(bound)!, insert.get('row by row')!)),
      line(`select ${IDS.toLocaleString('en')} ids`, select.get('batchSelectByIds')!, select.get('single selects')!),
    ];
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${table}_source`).catch(() => undefined);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.close();
  }
}

/**
 * Other ways to insert the same rows, timed in the same rounds and printed as extra rows against
 * the same row-by-row median. PostgreSQL: the array form batchInsert used before COPY.
 * SQLite: the same insert without Spillway, on the writer connection Spillway uses, as bounds on
 * what any batch could reach: better-sqlite3 alone running the 500-row statements batchInsert
 * sends (no validation, no promise per chunk), and SQLite alone copying the rows from another
 * table (no value bound at all: its own cost per row). MySQL's split between client and server
 * is measured by bench/batch-profile.ts.
 */
async function insertBounds(name: string, db: Database, table: string, columns: string[]): Promise<Map<string, () => Promise<unknown>>> {
  const bounds = new Map<string, () => Promise<unknown>>();
  const list = columns.join(', ');
  if (name === 'sqlite') {
    const source = `${table}_source`;
    await db.query(`CREATE TABLE ${source} (name TEXT, email TEXT, score INTEGER, note TEXT)`);
    await db.batchInsert(source, rows);
    const chunkRows = 500;
    const chunkSql = (n: number) =>
      `INSERT INTO ${table} (${list}) VALUES ${new Array(n).fill(`(${columns.map(() => '?').join(', ')})`).join(', ')}`;
    bounds.set('better-sqlite3 alone, 500-row statements', () =>
      db.transaction(async (tx) => {
        const raw = tx.connection as { prepare(sql: string): { run(...params: unknown[]): unknown } };
        const full = raw.prepare(chunkSql(chunkRows));
        for (let i = 0; i < rows.length; i += chunkRows) {
          const end = Math.min(rows.length, i + chunkRows);
          const params: unknown[] = new Array((end - i) * 4);
          let p = 0;
          for (let r = i; r < end; r++) {
            const row = rows[r]!;
            params[p++] = row.name;
            params[p++] = row.email;
            params[p++] = row.score;
            params[p++] = row.note;
          }
          (end - i === chunkRows ? full : raw.prepare(chunkSql(end - i))).run(...params);
        }
      }),
    );
    bounds.set('SQLite alone, no values bound (INSERT ... SELECT)', () =>
      db.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${source}`),
    );
  }
  if (name === 'postgres') {
    // What batchInsert sent before it used COPY (and still sends with onConflict or returning).
    const perStatement = 50_000;
    bounds.set('one array per column (unnest), 50,000 rows per statement', () =>
      db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += perStatement) {
          const slice = rows.slice(i, i + perStatement);
          await tx.query(`INSERT INTO ${table} (${list}) SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[])`, [
            slice.map((r) => r.name),
            slice.map((r) => r.email),
            slice.map((r) => r.score),
            slice.map((r) => r.note),
          ]);
        }
      }),
    );
  }
  return bounds;
}

const lines = ['| dialect | operation | batch | one at a time | speed-up | per round |', '|---|---|---|---|---|---|'];
for (const name of args.dialects.split(',')) {
  lines.push(...(await benchDialect(name.trim())));
  console.error(lines.at(-1));
}
rmSync(sqliteDir, { recursive: true, force: true });
console.log(`${machineLine()}; rounds ${ROUNDS} (medians)\n`);
console.log(lines.join('\n'));
