import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createPool, type SpillwayError } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { learnShared } from '../../support/multiplex.js';
import { backendPids } from '../../support/postgres-activity.js';

/**
 * A TCP proxy in front of the shared PostgreSQL that can stop passing the server's answers: a silent
 * network is the one fault a real server cannot be asked to produce.
 */
async function freezableProxy(target: URL): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('PostgreSQL multiplexing: a connection that stops answering', () => {
  it('fails the statements in flight on it with STATEMENT_TIMEOUT, discards it, and serves later calls on a new one', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const target = new URL(POSTGRES_URL);
    const proxy = await freezableProxy(target);
    const name = uniqueName('mux_stall');
    const url = `postgres://${target.username}@127.0.0.1:${proxy.port}${target.pathname}`;
    const db = createPool({ url, name, size: 1, maxOverflow: 0, statementTimeoutMs: 200, prePing: false, multiplex: true, env: {} });
    try {
      assert.deepEqual((await db.query('SELECT 1 AS n')).rows, [{ n: 1 }]);
      // Learned fast, the five calls below are pipelined together on the one connection.
      await learnShared(db, 'SELECT $1::int AS i', [0]);
      proxy.freeze();
      const started = performance.now();
      const stuck = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => db.query('SELECT $1::int AS i', [i])));
      const waitedMs = performance.now() - started;
      for (const r of stuck) {
        assert.equal(r.status, 'rejected');
        assert.equal(((r as PromiseRejectedResult).reason as SpillwayError).code, 'STATEMENT_TIMEOUT');
      }
      assert.ok(waitedMs >= 1000, `the backstop waits statementTimeoutMs + grace (${Math.round(waitedMs)} ms)`);
      proxy.thaw();
      assert.deepEqual((await db.query('SELECT 2 AS n')).rows, [{ n: 2 }]);
      assert.ok(db.stats().invalidated >= 1, 'the stuck connection was discarded');
    } finally {
      await db.close({ graceMs: 1000 });
      await proxy.close();
    }
    // The stuck backend ends once its socket closes; give the server a moment to notice.
    for (let i = 0; i < 50 && (await backendPids(name)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await backendPids(name), []);
  });
});
