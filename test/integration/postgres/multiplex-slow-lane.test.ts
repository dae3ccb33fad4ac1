import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { learnShared } from '../../support/multiplex.js';
import { adminQuery, backendPids } from '../../support/postgres-activity.js';

const FAST = 'SELECT clock_timestamp() AS at';
const SLOW = 'SELECT clock_timestamp() AS started, pg_sleep(0.3), clock_timestamp() AS ended';

/** Wait until the server runs `count` of the pool's statements whose text is `text`. */
async function serverRuns(poolName: string, text: string, count: number): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const [row] = await adminQuery<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query = $2 AND state = 'active'",
      [`spillway:${poolName}`, text],
    );
    if (row?.n === count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the server never ran ${count} of "${text}" at once`);
}

describe('PostgreSQL multiplexing: fast statements never wait behind slow ones', () => {
  it('answers fast statements while a 300 ms statement is in flight on every connection the slow lane may take', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_slow_lane');
    // 5 connections: while fast statements are about, statements running alone hold at most 4.
    const db = createPool({ url: POSTGRES_URL, name, size: 5, maxOverflow: 0, multiplex: true, env: {} });
    const multiplexer = db.multiplexer!;
    try {
      await learnShared(db, FAST);
      for (const round of ['unknown', 'learned slow']) {
        const settled: string[] = [];
        const before = multiplexer.status;
        const slow = Array.from({ length: 6 }, () =>
          db.query<{ started: Date; ended: Date }>(SLOW).then((result) => {
            settled.push('slow');
            return result.rows[0]!;
          }),
        );
        // Four run on the server, one per connection; the other two wait for the lane.
        await serverRuns(name, SLOW, 4);
        const fast = Array.from({ length: 20 }, () =>
          db.query<{ at: Date }>(FAST).then((result) => {
            settled.push('fast');
            return result.rows[0]!.at;
          }),
        );
        const fastAt = await Promise.all(fast);
        const slowRows = await Promise.all(slow);
        assert.deepEqual(settled.slice(0, 20), Array(20).fill('fast'), `${round}: every fast statement was answered before any slow one`);
        const firstEnded = Math.min(...slowRows.map((r) => r.ended.getTime()));
        assert.ok(
          fastAt.every((at) => at.getTime() < firstEnded),
          `${round}: on the server, every fast statement ran before the first slow one ended`,
        );
        const after = multiplexer.status;
        const ran = after.sharedRuns - before.sharedRuns + (after.exclusiveRuns - before.exclusiveRuns);
        assert.equal(ran, 26, `${round}: every statement went through the multiplexer`);
        // The slow ones ran alone (a fast one may too, should a loaded machine stall it into probation).
        assert.ok(after.exclusiveRuns - before.exclusiveRuns >= 6, `${round}: the slow statements ran alone`);
      }
      const shapes = multiplexer.shapes(10);
      assert.equal(shapes.find((s) => s.statement.includes('pg_sleep(?)'))?.reason, 'slow', 'the slow statement is known slow');
      assert.equal(shapes.find((s) => s.statement === FAST)?.mode, 'shared');
    } finally {
      await db.close();
    }
    assert.deepEqual(await backendPids(name), []);
  });
});
