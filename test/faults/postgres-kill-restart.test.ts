import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type pg from 'pg';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import {
  adminClient,
  CALL_BOUND_MS,
  eventuallySucceeds,
  lostWrites,
  NOISE_MARGIN_MS,
  serverConnections,
  spillwayTarget,
} from '../support/fault-checks.js';
import { runLoad } from '../support/fault-load.js';
import { TempPostgres } from '../support/pg-cluster.js';

// kill -9 of the server and a restart need a server of our own: a throwaway cluster on a free
// port, started from the system's PostgreSQL binaries and removed afterwards.
let cluster: TempPostgres | undefined;

before(async (t) => {
  // The shared server being reachable says this machine has PostgreSQL installed and running.
  if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
  cluster = await TempPostgres.start();
});

after(async () => {
  await cluster?.stop();
});

it('kill -9 of the server and a restart: calls stay bounded, no acknowledged write is lost, service resumes', {
  timeout: 120_000,
}, async (t) => {
  if (cluster === undefined) return t.skip('no PostgreSQL binaries or server on this machine');
  const server = cluster;
  const table = uniqueName('fault_writes');
  let admin: pg.Client = await adminClient(server.url);
  await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
  await admin.end();
  const { db, target } = spillwayTarget(server.url, table);
  const circuitChanges: string[] = [];
  db.on('circuit', ({ to }) => circuitChanges.push(to));
  try {
    const result = await runLoad(target, {
      callers: 20,
      warmupMs: 500,
      startFault: () => server.kill9(),
      faultMs: 1500,
      endFault: () => server.restart(),
      afterMs: 2500,
      hangGraceMs: CALL_BOUND_MS + 3000,
    });
    const { acked, ...summary } = result;
    t.diagnostic(JSON.stringify({ ...summary, acked: acked.length, circuitChanges }));
    assert.equal(db.pool.listenerCount('error'), 0, 'no error listener: a crash would end this test');
    assert.equal(result.hung, 0, 'every call returned');
    assert.ok(
      result.longestMs <= CALL_BOUND_MS + NOISE_MARGIN_MS,
      `longest call ${Math.round(result.longestMs)}ms, bound ${CALL_BOUND_MS}ms`,
    );
    assert.ok((result.errors.CONNECTION_LOST ?? 0) > 0, 'the kill was seen');
    assert.ok(circuitChanges.includes('open'), 'refused connects opened the breaker');
    await eventuallySucceeds(() => db.query('SELECT 1'), 5000);
    assert.equal(db.circuit()?.state, 'closed');
    await db.close({ graceMs: 2000 });
    admin = await adminClient(server.url);
    assert.equal(await serverConnections(admin, `spillway:${db.name}`), 0, 'no server connection left after close()');
    assert.deepEqual(await lostWrites(admin, table, acked), [], 'every acknowledged insert survived the crash');
    await admin.end();
  } finally {
    await db.close({ graceMs: 0 });
  }
});
