import mysql from 'mysql2/promise';
import { MYSQL_URL } from './databases.js';

/** Run one statement on a fresh connection outside any pool under test (setup, cleanup, inspection). */
export async function mysqlAdminQuery(sql: string, values?: unknown[]): Promise<unknown> {
  const connection = await mysql.createConnection(MYSQL_URL);
  try {
    return (await connection.query(sql, values))[0];
  } finally {
    await connection.end();
  }
}

/** Wait (up to 5 s) until none of these server threads is in the processlist: what a pool left open. */
export async function expectThreadsGone(threadIds: readonly number[]): Promise<void> {
  if (threadIds.length === 0) throw new Error('no thread ids recorded: the test saw no connection');
  let left: unknown[] = [];
  for (let i = 0; i < 100; i++) {
    left = (await mysqlAdminQuery('SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?)', [threadIds])) as unknown[];
    if (left.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${left.length} server thread(s) of the pool are still open`);
}
