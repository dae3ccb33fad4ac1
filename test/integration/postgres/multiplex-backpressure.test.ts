import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPool, type SpillwayError } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { learnShared } from '../../support/multiplex.js';
import { backendPids, InFlightCounter } from '../../support/postgres-activity.js';

describe('PostgreSQL multiplexing: bound, back-pressure and exclusive borrowers', () => {
  it('keeps at most maxInFlight per connection, spreads over the pool, and never exceeds its size', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_bound');
    const db = createPool({ url: POSTGRES_URL, name, size: 3, maxOverflow: 1, multiplex: { maxInFlight: 4 }, env: {} });
    const counter = new InFlightCounter();
    db.on('checkout', counter.onCheckout).on('checkin', counter.onCheckin);
    let maxTotal = 0;
    db.on('checkout', () => {
      maxTotal = Math.max(maxTotal, db.status().total);
    });
    try {
      // A fast shape, learned as such, is pipelined; the 40 calls start in one tick. On a loaded machine
      // a stalled backend can put the shape on probation mid-burst (its next runs go alone), so the burst
      // is repeated, up to five times, until the bound is reached; it must never be passed.
      for (let burst = 0; burst < 5 && (counter.maxPerConnection < 4 || counter.started.size < 3); burst++) {
        await learnShared(db, 'SELECT $1::int AS i', [0]);
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => db.query('SELECT $1::int AS i', [i])));
        assert.deepEqual(
          results.map((r) => r.rows[0]!.i),
          Array.from({ length: 40 }, (_, i) => i),
        );
      }
      assert.equal(counter.maxPerConnection, 4, 'the bound was reached and never passed');
      assert.ok(counter.started.size >= 3, `work spread over ${counter.started.size} connections`);
      assert.ok(maxTotal <= 4, `at most size + maxOverflow connections (${maxTotal})`);
    } finally {
      await db.close();
    }
    assert.deepEqual(await backendPids(name), []);
  });

  it('makes callers wait when no connection has room, and fails them POOL_TIMEOUT after checkoutTimeoutMs', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_bp');
    const db = createPool({
      url: POSTGRES_URL,
      name,
      size: 1,
      maxOverflow: 0,
      checkoutTimeoutMs: 200,
      multiplex: { maxInFlight: 2 },
      env: {},
    });
    try {
      // A slow statement runs alone on the only connection: nothing is pipelined behind it.
      const slow = db.query('SELECT pg_sleep(0.6)');
      const second = db.query('SELECT 3 AS n');
      await assert.rejects(second, (error: SpillwayError) => {
        assert.equal(error.code, 'POOL_TIMEOUT');
        assert.match(error.message, /size 1 overflow 0/);
        return true;
      });
      await slow;
      assert.deepEqual((await db.query('SELECT 4 AS n')).rows, [{ n: 4 }], 'room again once the slow ones finished');
    } finally {
      await db.close();
    }
  });

  it('gives a transaction its own connection while plain statements keep flowing, and runs session statements exclusively', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_tx');
    const db = createPool({ url: POSTGRES_URL, name, size: 1, maxOverflow: 0, checkoutTimeoutMs: 5000, multiplex: true, env: {} });
    try {
      // A steady stream of plain statements holds the only connection. Each reports the transaction id
      // it runs under: none outside a transaction, the transaction's own id if it leaked into one.
      let stop = false;
      const seen: (string | null)[] = [];
      const streams = Array.from({ length: 8 }, async () => {
        while (!stop) seen.push((await db.query<{ x: string | null }>('SELECT txid_current_if_assigned()::text AS x')).rows[0]!.x);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // ...yet a transaction gets it to itself (the stream yields it), and nothing else runs inside it.
      const xact = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ x: string }>('SELECT txid_current()::text AS x');
        await new Promise((resolve) => setTimeout(resolve, 50));
        return rows[0]!.x;
      });
      const before = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
      stop = true;
      await Promise.all(streams);
      assert.ok(seen.length > before, 'plain statements flowed again after the transaction');
      assert.ok(!seen.includes(xact), 'no plain statement ran inside the transaction');
      assert.deepEqual(new Set(seen), new Set([null]));
      // BEGIN, SET and per-call timeouts never go through the shared path.
      assert.equal(db.multiplexer?.accepts('  begin', undefined), false);
      assert.equal(db.multiplexer?.accepts('SET search_path TO public', undefined), false);
      assert.equal(db.multiplexer?.accepts('SELECT 1', { timeoutMs: 100 }), false);
      assert.equal(db.multiplexer?.accepts('SELECT 1', undefined), true);
      await assert.rejects(
        db.query('SELECT pg_sleep(1)', [], { timeoutMs: 100 }),
        (error: SpillwayError) => error.code === 'STATEMENT_TIMEOUT',
      );
    } finally {
      await db.close();
    }
    assert.deepEqual(await backendPids(name), []);
  });

  it('is on by default, and off with multiplex: false or DB_MULTIPLEX_MAX_IN_FLIGHT=0', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('mux_off'), size: 1, multiplex: false, maxOverflow: 0, env: {} });
    const byDefault = createPool({ url: POSTGRES_URL, name: uniqueName('mux_default'), size: 1, maxOverflow: 0, env: {} });
    const offByEnv = createPool({
      url: POSTGRES_URL,
      name: uniqueName('mux_env_off'),
      size: 1,
      maxOverflow: 0,
      env: { DB_MULTIPLEX_MAX_IN_FLIGHT: '0' },
    });
    let shared = 0;
    byDefault.on('checkout', (event) => {
      if (event.shared) shared++;
    });
    try {
      assert.equal(db.multiplexer, undefined);
      assert.equal(offByEnv.multiplexer, undefined);
      assert.notEqual(byDefault.multiplexer, undefined);
      assert.deepEqual((await db.query('SELECT 1 AS n')).rows, [{ n: 1 }]);
      assert.deepEqual((await offByEnv.query('SELECT 1 AS n')).rows, [{ n: 1 }]);
      assert.deepEqual((await byDefault.query('SELECT 1 AS n')).rows, [{ n: 1 }]);
      assert.equal(shared, 1, 'the default pool ran the statement on a shared connection');
    } finally {
      await db.close();
      await byDefault.close();
      await offByEnv.close();
    }
  });
});
