import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import {
  adminClient,
  assertFaultRules,
  createWritesTable,
  eventuallySucceeds,
  FAULT_MODES,
  loadThroughKillAndRestart,
  spillwayTarget,
} from '../support/fault-checks.js';
import { TempPostgres } from '../support/pg-cluster.js';

// kill -9 of the server and a restart need a server of our own: a throwaway cluster on a free
// port, started from the system's PostgreSQL binaries and removed afterwards. The scenario runs with
// a connection per statement and with multiplexing, against the same rules (assertFaultRules).
let cluster: TempPostgres | undefined;

before(async (t) => {
  // The shared server being reachable says this machine has PostgreSQL installed and running.
  if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
  cluster = await TempPostgres.start();
});

after(async () => {
  await cluster?.stop();
});

for (const { label, multiplex } of FAULT_MODES) {
  it(`${label}: kill -9 of the server and a restart: calls stay bounded, no acknowledged write is lost, service resumes`, {
    timeout: 120_000,
  }, async (t) => {
    if (cluster === undefined) return t.skip('no PostgreSQL binaries or server on this machine');
    const server = cluster;
    const table = uniqueName('fault_writes');
    const admin = await adminClient(server.url);
    await createWritesTable(admin, table);
    await admin.end();
    const { db, target } = spillwayTarget(server.url, table, { multiplex });
    const circuitChanges: string[] = [];
    db.on('circuit', ({ to }) => circuitChanges.push(to));
    try {
      const result = await loadThroughKillAndRestart(target, server, 2500);
      const { acked, ...summary } = result;
      t.diagnostic(JSON.stringify({ multiplex, ...summary, acked: acked.length, circuitChanges }));
      assert.ok((result.errors.CONNECTION_LOST ?? 0) > 0, 'the kill was seen');
      assert.ok(circuitChanges.includes('open'), 'refused connects opened the breaker');
      await eventuallySucceeds(() => db.query('SELECT 1'), 5000);
      assert.equal(db.circuit()?.state, 'closed');
      await assertFaultRules(db, result, server.url, table);
    } finally {
      await db.close({ graceMs: 0 });
    }
  });
}
