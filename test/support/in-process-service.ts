import type { TestContext } from 'node:test';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { createScratchDatabase } from './scratch-database.js';

/**
 * The reference service started in this process on a scratch PostgreSQL database, for tests that
 * must reach into its pool (hold connections, count checkouts). Stopped and dropped after the test.
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
