import { rejects } from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Database } from '../../src/database.js';
import { createPool } from '../../src/index.js';
import { dialectSelected, MYSQL_URL, POSTGRES_URL, requireServer, uniqueName } from './databases.js';

export type BatchDialectName = 'postgres' | 'mysql' | 'sqlite';

/** Dialects the batch tests run on (SPILLWAY_TEST_DIALECTS narrows them). */
export const BATCH_DIALECTS: readonly BatchDialectName[] = ['postgres', 'mysql', 'sqlite'];

/** Column types per dialect, so one test body creates equivalent tables everywhere. */
export const COLUMN_TYPES = {
  postgres: { serial: 'SERIAL PRIMARY KEY', text: 'TEXT', int: 'INTEGER', textKey: 'TEXT PRIMARY KEY', suffix: '' },
  // LONGTEXT for large values; a binary no-pad collation so 'a', 'A' and 'a ' stay distinct keys.
  mysql: {
    serial: 'INT AUTO_INCREMENT PRIMARY KEY',
    text: 'LONGTEXT',
    int: 'INT',
    textKey: 'VARCHAR(191) COLLATE utf8mb4_nopad_bin PRIMARY KEY',
    suffix: ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
  },
  sqlite: { serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', text: 'TEXT', int: 'INTEGER', textKey: 'TEXT PRIMARY KEY', suffix: '' },
} as const;

export interface BatchHarness {
  db: Database;
  dialect: BatchDialectName;
  types: (typeof COLUMN_TYPES)[BatchDialectName];
  /** Create a uniquely named table from column definitions; dropped when the test ends. */
  table(prefix: string, columns: string): Promise<string>;
  count(table: string): Promise<number>;
}

/**
 * A pool on `dialect` for one test, or undefined when the dialect is not selected or its server is
 * unreachable (skipped with the reason; a failure under CI). Closes the pool, drops the tables and
 * removes the SQLite temp dir when the test ends.
 */
export async function openBatch(t: TestContext, dialect: BatchDialectName): Promise<BatchHarness | undefined> {
  let url: string;
  let dir: string | undefined;
  if (dialect === 'sqlite') {
    if (!dialectSelected('sqlite')) {
      t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
      return undefined;
    }
    dir = mkdtempSync(join(tmpdir(), 'spillway-batch-'));
    url = `sqlite:${join(dir, 'batch.db')}`;
  } else {
    url = dialect === 'postgres' ? POSTGRES_URL : MYSQL_URL;
    if (!(await requireServer(t, url, dialect))) return undefined;
  }
  const db = createPool({ url, size: 2, maxOverflow: 0, env: {}, name: uniqueName('batch') });
  const tables: string[] = [];
  t.after(async () => {
    for (const table of tables) await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const types = COLUMN_TYPES[dialect];
  return {
    db,
    dialect,
    types,
    async table(prefix, columns) {
      const name = uniqueName(prefix);
      await db.query(`CREATE TABLE ${name} (${columns})${types.suffix}`);
      tables.push(name);
      return name;
    },
    async count(table) {
      const { rows } = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`);
      return Number(rows[0]?.n);
    },
  };
}

/** Assert the promise rejects with BATCH_INVALID. */
export async function rejectsInvalid(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  await rejects(promise, (error: unknown) => {
    const e = error as { code?: string; message?: string };
    if (e.code !== 'BATCH_INVALID') throw error;
    if (message !== undefined && !message.test(e.message ?? '')) throw new Error(`message ${e.message} does not match ${message}`);
    return true;
  });
}
