import net from 'node:net';
import type { TestContext } from 'node:test';

/** URLs of the shared servers (override with env for other machines). */
export const POSTGRES_URL = process.env.SPILLWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.SPILLWAY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Dialects selected for integration tests: SPILLWAY_TEST_DIALECTS=postgres,mysql,sqlite (default all). */
export function dialectSelected(name: 'postgres' | 'mysql' | 'sqlite'): boolean {
  const selected = process.env.SPILLWAY_TEST_DIALECTS;
  return (
    selected === undefined ||
    selected
      .split(',')
      .map((s) => s.trim())
      .includes(name)
  );
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Returns true when the test may run against `url`. Under CI an unreachable database is a failure,
 * never a silent skip; elsewhere the test is skipped with the reason printed.
 */
export async function requireServer(t: TestContext, url: string, dialect: 'postgres' | 'mysql'): Promise<boolean> {
  if (!dialectSelected(dialect)) {
    t.skip(`${dialect} not selected by SPILLWAY_TEST_DIALECTS`);
    return false;
  }
  if (await reachable(url)) return true;
  if (process.env.CI) throw new Error(`CI is set but ${dialect} at ${url} is unreachable`);
  t.skip(`${dialect} at ${url} is unreachable`);
  return false;
}

/** A name unique to this test run, for tables and pool names. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
