import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { captureLogs as capture } from '../../support/log-capture.js';
import { freeLoopbackPort } from '../../support/ports.js';

const PASSWORD = 'Sup3r-Secret-pw';

describe('logging through a pino-compatible logger', () => {
  it('logs lifecycle at debug and leaks and alerts at warn, with the pool name and never the password', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const { logger, lines } = capture();
    const name = uniqueName('logged');
    const url = POSTGRES_URL.replace('postgres@', `postgres:${PASSWORD}@`); // trust auth ignores it
    const db = createPool({ url, name, logger, healthCheckIntervalMs: 0, metrics: { registry: new Registry() }, maxUses: 1 });
    try {
      await db.query('SELECT 1');
      await db.query('SELECT 1'); // maxUses 1: the first connection is recycled
      db.pool.emit('leak', { connectionId: 1, heldMs: 61_000, stack: 'Error\n    at app', poolName: name });
    } finally {
      await db.close();
    }
    const logged = lines();
    const debug = logged.filter((l) => l.level === 20).map((l) => l.msg);
    assert.ok(debug.includes('connection opened'), JSON.stringify(debug));
    assert.ok(debug.includes('connection closed'));
    assert.ok(debug.includes('connection recycled'));
    const leak = logged.find((l) => l.msg === 'connection leak suspected');
    assert.equal(leak?.level, 40);
    assert.equal(leak?.heldMs, 61_000);
    const alert = logged.find((l) => String(l.msg).startsWith('alert:'));
    assert.equal(alert?.level, 40);
    assert.equal(alert?.alert, 'connection_leak');
    assert.ok(logged.every((l) => l.pool === name));
    assert.doesNotMatch(JSON.stringify(logged), new RegExp(PASSWORD));
  });

  it('redacts connection errors of a pool whose server is down', async () => {
    const port = await freeLoopbackPort(); // nothing listens there
    const { logger, lines } = capture();
    const db = createPool({
      url: `postgres://app:${PASSWORD}@127.0.0.1:${port}/app?password=${PASSWORD}`,
      name: uniqueName('down'),
      logger,
      healthCheckIntervalMs: 0,
      metrics: { registry: new Registry() },
    });
    try {
      await db.health();
      await db.health();
    } finally {
      await db.close();
    }
    const logged = lines();
    assert.ok(logged.some((l) => l.msg === 'connection error' && l.level === 40));
    assert.ok(logged.some((l) => l.alert === 'database_unhealthy' && l.level === 40));
    assert.doesNotMatch(JSON.stringify(logged), new RegExp(PASSWORD));
  });
});
