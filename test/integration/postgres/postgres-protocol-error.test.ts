import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPool, SpillwayError } from '../../../src/index.js';
import { POSTGRES_URL, requireServer } from '../../support/databases.js';

// A statement the server refuses at Bind (the wrong number of parameters) is SQLSTATE 08P01, class 08
// "connection exception", yet at severity ERROR: the server answered, nothing ran, the session goes on.
describe('PostgreSQL: a protocol error the server answers is rejected, and the connection is kept', () => {
  for (const multiplex of [true, false]) {
    it(`multiplex: ${multiplex}`, async (t) => {
      if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
      const db = createPool({ url: POSTGRES_URL, size: 1, maxOverflow: 0, multiplex, env: {} });
      try {
        const { rows: before } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await assert.rejects(db.query('SELECT 1 AS v', [1]), (error: Error & { code?: string; outcome?: string }) => {
          assert.ok(!(error instanceof SpillwayError), `the driver's error passes through (got ${error.message})`);
          assert.equal(error.code, '08P01');
          assert.equal(error.outcome, 'rejected');
          return true;
        });
        const { rows: after } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        assert.equal(after[0]?.pid, before[0]?.pid, 'the same server connection serves the next statement');
        assert.equal(db.status().total, 1);
      } finally {
        await db.close();
      }
    });
  }
});
