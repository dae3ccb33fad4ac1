import { createPool } from '../../src/index.js';
import { uniqueName } from './databases.js';

/**
 * A fresh database on a shared server for one test (the service creates its own tables, named as
 * any app would name them, so it gets a database of its own). `drop()` removes it.
 */
export async function createScratchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('spillway_e2e').toLowerCase();
  const admin = createPool({ url: adminUrl, size: 1, maxOverflow: 0 });
  const postgres = admin.dialect.name === 'postgres';
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.close();
    throw error;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      try {
        await admin.query(postgres ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await admin.close();
      }
    },
  };
}
