import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { dialectSelected, MYSQL_URL, POSTGRES_URL, requireServer } from './databases.js';
import { createScratchDatabase } from './scratch-database.js';

/**
 * The reference service started in this process on a scratch database (PostgreSQL or MariaDB), for
 * tests that must reach into its pool (hold connections, count checkouts). Stopped and dropped after the test.
 */
export async function startInProcessService(t: TestContext, adminUrl: string, env: Record<string, string>): Promise<RunningService> {
  const database = await createScratchDatabase(adminUrl);
  let running: RunningService;
  try {
    running = await startService({ env: { ...env, DATABASE_URL: database.url }, port: 0, host: '127.0.0.1', log: () => undefined });
  } catch (error) {
    await database.drop();
    throw error;
  }
  t.after(async () => {
    await running.stop();
    await database.drop();
  });
  return running;
}

/** The dialects the reference service runs on, for tests that must hold on each. */
export const SERVICE_DIALECTS = ['sqlite', 'postgres', 'mysql'] as const;

/**
 * The reference service in this process on a fresh database of `dialect` (a SQLite file in a temp
 * dir, or a scratch database on the shared server), or undefined when that dialect is skipped (the
 * reason printed; a failure under CI).
 */
export async function startServiceOn(
  t: TestContext,
  dialect: (typeof SERVICE_DIALECTS)[number],
  env: Record<string, string> = {},
): Promise<RunningService | undefined> {
  if (dialect === 'postgres' || dialect === 'mysql') {
    const adminUrl = dialect === 'postgres' ? POSTGRES_URL : MYSQL_URL;
    if (!(await requireServer(t, adminUrl, dialect))) return undefined;
    return startInProcessService(t, adminUrl, env);
  }
  if (!dialectSelected('sqlite')) {
    t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spillway-service-'));
  let running: RunningService;
  try {
    running = await startService({
      env: { ...env, DATABASE_URL: `sqlite:${join(dir, 'service.db')}` },
      port: 0,
      host: '127.0.0.1',
      log: () => undefined,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  t.after(async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return running;
}
