/**
 * Where a MySQL batch insert's time goes: wall time, this process's CPU (the client: validation,
 * encoding, the driver) and the server's CPU (read from /proc for a local mariadbd or mysqld), for
 * the same rows sent several ways, interleaved. Contenders: Spillway's batchInsert and row-by-row
 * INSERTs in one transaction (as bench/batch.ts), and mysql2 alone with client-side escaping
 * (`query`, the text protocol) or server-side prepared statements (`execute`) at several rows per
 * statement, and LOAD DATA LOCAL INFILE (the server's bulk path, when it allows it).
 *
 * Run: npx tsx bench/batch-mysql-profile.ts [--rows 100000] [--rounds 3] [--row-by-row 20000]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createPool } from '../src/index.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    // Row by row is slow; a smaller count, scaled up, keeps the run short (it is linear in rows).
    'row-by-row': { type: 'string', default: '20000' },
  },
});
const ROWS = Number(args.rows);
const ROW_BY_ROW = Math.min(ROWS, Number(args['row-by-row']));
const url = process.env.SPILLWAY_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const rows = Array.from({ length: ROWS }, (_, i) => ({
  name: `customer ${i} ünïcode`,
  email: `c${i}@example.com`,
  score: i % 1000,
  note: i % 7 === 0 ? null : 'x'.repeat(i % 50),
}));

/** The server's CPU time (ms) when it runs on this machine and /proc shows it; otherwise NaN. */
function serverCpuMs(): number {
  try {
    const pid = execFileSync('pgrep', ['-o', '-x', 'mariadbd|mysqld']).toString().trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerSecond = 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

interface RawConnection {
  query(options: object, cb: (error: Error | null, result: unknown) => void): void;
  execute(options: object, cb: (error: Error | null, result: unknown) => void): void;
  unprepare(sql: string): void;
}

const db = createPool({ url, size: 1, maxOverflow: 0, env: {}, name: 'bench-batch-profile' });
const table = `bench_batch_profile_${process.pid}`;
const columns = ['name', 'email', 'score', 'note'];
const insertSql = (n: number): string =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(n).fill('(?, ?, ?, ?)').join(', ')}`;
const values = (from: number, to: number): unknown[] => rows.slice(from, to).flatMap((r) => [r.name, r.email, r.score, r.note]);
const call = (fn: (cb: (error: Error | null, result: unknown) => void) => void): Promise<unknown> =>
  new Promise((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result))));

/** mysql2 alone on Spillway's connection, in one transaction, `perStatement` rows at a time. */
function driverAlone(protocol: 'query' | 'execute', perStatement: number): () => Promise<unknown> {
  return () =>
    db.transaction(async (tx) => {
      const raw = tx.connection as RawConnection;
      const texts = new Set<string>();
      for (let i = 0; i < ROWS; i += perStatement) {
        const sql = insertSql(Math.min(perStatement, ROWS - i));
        texts.add(sql);
        const params = values(i, i + perStatement);
        await call((cb) => (protocol === 'query' ? raw.query({ sql, values: params }, cb) : raw.execute({ sql, values: params }, cb)));
      }
      for (const sql of texts) if (protocol === 'execute') raw.unprepare(sql);
    });
}

const contenders = new Map<string, { run: () => Promise<unknown>; rows: number }>([
  ['Spillway batchInsert', { run: () => db.batchInsert(table, rows), rows: ROWS }],
  [
    'Spillway row by row, one transaction',
    {
      run: () =>
        db.transaction(async (tx) => {
          const sql = insertSql(1);
          for (let i = 0; i < ROW_BY_ROW; i++) {
            const r = rows[i]!;
            await tx.query(sql, [r.name, r.email, r.score, r.note]);
          }
        }),
      rows: ROW_BY_ROW,
    },
  ],
  ['mysql2 query (client-side escaping), 2,000 rows per statement', { run: driverAlone('query', 2000), rows: ROWS }],
  ['mysql2 execute (prepared), 500 rows per statement', { run: driverAlone('execute', 500), rows: ROWS }],
  ['mysql2 execute (prepared), 2,000 rows per statement', { run: driverAlone('execute', 2000), rows: ROWS }],
  ['mysql2 execute (prepared), 8,000 rows per statement', { run: driverAlone('execute', 8000), rows: ROWS }],
]);

const tsv = rows.map((r) => [r.name, r.email, r.score, r.note ?? '\\N'].join('\t')).join('\n');
const loadData = (): Promise<unknown> =>
  db.withConnection(async (session) => {
    const raw = session.connection as RawConnection;
    await call((cb) =>
      raw.query(
        {
          sql: `LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE ${table} CHARACTER SET utf8mb4 (${columns.join(', ')})`,
          infileStreamFactory: () => Readable.from([Buffer.from(tsv)]),
        },
        cb,
      ),
    );
  });

const reset = async (): Promise<void> => {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(
    `CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT, email TEXT, score INTEGER, note TEXT) CHARACTER SET utf8mb4`,
  );
};

try {
  await reset();
  try {
    await loadData();
    contenders.set('LOAD DATA LOCAL INFILE (no Spillway)', { run: loadData, rows: ROWS });
  } catch (error) {
    console.error(`no LOAD DATA contender: ${(error as Error).message}`);
  }
  const results = await interleaved(Number(args.rounds), [...contenders.keys()], async (name) => {
    await reset();
    const clientBefore = process.cpuUsage();
    const serverBefore = serverCpuMs();
    const started = performance.now();
    await contenders.get(name)!.run();
    const wallMs = performance.now() - started;
    const client = process.cpuUsage(clientBefore);
    return { wallMs, clientMs: (client.user + client.system) / 1000, serverMs: serverCpuMs() - serverBefore };
  });
  console.log(
    `${machineLine()}; rounds ${args.rounds} (medians), ${ROWS.toLocaleString('en')} rows (row by row: ${ROW_BY_ROW.toLocaleString('en')}, scaled)\n`,
  );
  console.log('| contender | wall ms | client CPU ms | server CPU ms | µs per row (wall) |');
  console.log('|---|---|---|---|---|');
  for (const [name, samples] of results) {
    const scale = ROWS / contenders.get(name)!.rows;
    const m = (pick: (s: (typeof samples)[number]) => number): number => median(samples.map(pick)) * scale;
    console.log(
      `| ${name}${scale === 1 ? '' : ` (×${scale})`} | ${m((s) => s.wallMs).toFixed(0)} | ${m((s) => s.clientMs).toFixed(0)} | ${m((s) => s.serverMs).toFixed(0)} | ${((m((s) => s.wallMs) * 1000) / ROWS).toFixed(2)} |`,
    );
  }
} finally {
  await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await db.close();
}
