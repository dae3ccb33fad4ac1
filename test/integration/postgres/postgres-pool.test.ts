import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { eventually, sleep } from '../../support/pool-fixtures.js';
import { serverConnections, withAdminClient } from '../../support/postgres.js';

test('PostgreSQL: a backend terminated while idle never crashes the process and is replaced', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const name = uniqueName('pgkill');
  const db = createPool({ url: POSTGRES_URL, name, size: 2, maxOverflow: 0, minIdle: 2, prePing: true, env: {} });
  try {
    await eventually(() => db.status().checkedIn === 2, 5000, 'minIdle warm-up');
    const killed = await withAdminClient(async (admin) => {
      const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [
        `spillway:${name}`,
      ]);
      return rows.length;
    });
    assert.equal(killed, 2);
    // The backends' goodbyes arrive asynchronously: a statement sent before the client has read one
    // goes down a dead connection and fails CONNECTION_LOST, as with any pool. Once the pool has seen
    // them (no 'error' listener is attached: the process must survive), it must heal.
    await eventually(() => db.stats().invalidated >= 2, 5000, 'both idle connections seen dead');
    const results = await Promise.all(Array.from({ length: 6 }, () => db.query('SELECT 1 AS one')));
    assert.ok(
      results.every((r) => r.rows[0]!.one === 1),
      'every caller got an answer, none a dead connection',
    );
    await eventually(() => db.status().checkedIn === 2, 5000, 'minIdle top-up');
  } finally {
    await db.close();
  }
  assert.equal(await serverConnections(name), 0);
});

test('PostgreSQL: overflow opens extra connections under load and closes them after, within size + maxOverflow', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const name = uniqueName('pgovf');
  // A connection per statement: this counts the connections the core opens for exclusive checkouts
  // (multiplexing would pipeline these statements on fewer, which is its point).
  const db = createPool({ url: POSTGRES_URL, name, size: 2, maxOverflow: 2, multiplex: false, env: {} });
  try {
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, db.status().total);
    }, 2);
    await Promise.all(Array.from({ length: 12 }, () => db.query('SELECT pg_sleep(0.05)')));
    clearInterval(sampler);
    assert.ok(peak <= 4, `peak ${peak} <= 4`);
    assert.equal(db.stats().created, 4);
    await eventually(() => db.status().total === 2, 2000, 'overflow closed');
    assert.equal(await serverConnections(name), 2);
  } finally {
    await db.close();
  }
});

test('PostgreSQL: a password function is called for each new connection and never shown', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  let calls = 0;
  const db = createPool({
    url: POSTGRES_URL,
    name: uniqueName('pgpw'),
    size: 2,
    maxOverflow: 0,
    // A connection per statement, so the two statements below open two connections.
    multiplex: false,
    env: {},
    password: async () => {
      calls++;
      return 'rotated-secret';
    },
  });
  try {
    await Promise.all([db.query('SELECT pg_sleep(0.02)'), db.query('SELECT pg_sleep(0.02)')]);
    assert.equal(calls, 2);
    const shown = JSON.stringify(db.describeConfig());
    assert.doesNotMatch(shown, /rotated-secret/);
    assert.match(shown, /\*\*\*/);
  } finally {
    await db.close();
  }
});

test('PostgreSQL: connections older than recycleMs are replaced', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const db = createPool({ url: POSTGRES_URL, name: uniqueName('pgrec'), size: 1, maxOverflow: 0, recycleMs: 50, env: {} });
  try {
    const first = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await sleep(80);
    const second = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    assert.notEqual(first, second);
    // At least the first one; on a loaded machine a connect can itself take longer than recycleMs, and
    // such a connection is recycled again as soon as it is returned.
    assert.ok(db.stats().recycled >= 1);
  } finally {
    await db.close();
  }
});

test('PostgreSQL: an unreachable server fails the caller with CONNECTION_LOST, not a hang', async () => {
  // Port 1 on loopback refuses connections: a real refused TCP connect, no mock.
  const db = createPool({ url: 'postgres://postgres@127.0.0.1:1/test', name: uniqueName('pgdown'), size: 1, env: {} });
  try {
    await assert.rejects(db.query('SELECT 1'), { code: 'CONNECTION_LOST' });
    assert.equal(db.stats().connectFailures, 1);
  } finally {
    await db.close();
  }
});
