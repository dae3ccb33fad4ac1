import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import { MYSQL_BACKSTOP_GRACE_MS } from '../../../src/dialect/mysql/mysql-dialect.js';
import { SpillwayError } from '../../../src/errors.js';
import { startTcpProxy } from '../../support/chaos-proxy.js';
import { MYSQL_URL, requireServer } from '../../support/databases.js';

describe('mysql client-side backstop', () => {
  it('fails a call within a second of its timeout when the server stops answering, and discards the connection', async (t) => {
    if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
    const server = new URL(MYSQL_URL);
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 3306));
    const url = new URL(MYSQL_URL);
    url.port = String(proxy.port);
    const db = createPool({ url: url.toString(), size: 1, maxOverflow: 0, statementTimeoutMs: 300, prePing: false, env: {} });
    try {
      assert.equal((await db.query('SELECT 1 AS one')).rowCount, 1);
      proxy.freeze(); // the server's own timeout can no longer reach us
      const started = performance.now();
      const error = await db.query('SELECT SLEEP(5)').then(
        () => assert.fail('the call must not succeed through a frozen link'),
        (e: unknown) => e,
      );
      const tookMs = performance.now() - started;
      assert.ok(error instanceof SpillwayError);
      assert.equal(error.code, 'STATEMENT_TIMEOUT');
      assert.ok(tookMs < 300 + 1000, `took ${tookMs.toFixed(0)}ms, more than a second past the 300ms timeout`);
      assert.ok(tookMs >= 300, 'the backstop must not fire before the statement timeout');
      assert.equal(db.stats().invalidated, 1, 'the silent connection is discarded, never reused');
      assert.ok(MYSQL_BACKSTOP_GRACE_MS < 1000);
    } finally {
      await db.close({ graceMs: 0 });
      await proxy.close();
    }
  });

  it('ends the abandoned session on the server with KILL from another connection', async (t) => {
    if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
    const server = new URL(MYSQL_URL);
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 3306));
    const url = new URL(MYSQL_URL);
    url.port = String(proxy.port);
    // Only the pool's connection is frozen: the server never learns that the client gave up, so
    // only the KILL (sent on a new connection, which passes) can end the session.
    const db = createPool({ url: url.toString(), size: 1, maxOverflow: 0, statementTimeoutMs: 60_000, prePing: false, env: {} });
    const observer = createPool({ url: MYSQL_URL, size: 1, env: {} });
    try {
      const { rows } = await db.query<{ id: number }>('SELECT CONNECTION_ID() AS id');
      const threadId = Number(rows[0]?.id);
      const running = db.query('SELECT SLEEP(30)', [], { timeoutMs: 400 }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      proxy.freeze();
      const error = await running;
      assert.equal((error as SpillwayError).code, 'STATEMENT_TIMEOUT');
      let stillRunning = true;
      for (let i = 0; i < 40 && stillRunning; i++) {
        const { rows: list } = await observer.query<{ n: number }>(
          'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?',
          [threadId],
        );
        stillRunning = Number(list[0]?.n) > 0;
        if (stillRunning) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(stillRunning, false, 'the abandoned session is gone from the server');
    } finally {
      await db.close({ graceMs: 0 });
      await observer.close();
      await proxy.close();
    }
  });
});
