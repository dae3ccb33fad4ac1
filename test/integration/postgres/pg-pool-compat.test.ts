// pg.Pool's behaviour (pg-pool 3.14 on pg 8), written once and run against both the original pg.Pool
// and spillway/pg's Pool in the same run, on the real PostgreSQL: what passes here holds for pg.Pool
// itself, so it cannot encode a Spillway-only belief. Spillway's deliberate differences and its extras
// are tested in pg-facade-pool.test.ts. No assertion depends on how long something took: waits poll
// with a generous bound, and "idle for idleTimeoutMillis + 10 ms" relies on timer order (a timer due
// earlier fires first), which holds on a loaded machine too.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, describe, it, type TestContext } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Pool as SpillwayPool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { fakeServer, waitFor } from '../../support/polling.js';
import { freeLoopbackPort } from '../../support/ports.js';

type PoolClass = new (config?: pg.PoolConfig) => pg.Pool;
type ClientFields = pg.PoolClient & { _ending?: boolean; connection: { end(): void } };

const CONTENDERS: [string, PoolClass][] = [
  ['pg.Pool', pg.Pool],
  ['spillway/pg Pool', SpillwayPool as unknown as PoolClass],
];

/** pg-pool calls end's callback with an error when there is one (@types/pg declares it without). */
function endWithCallback(pool: pg.Pool, callback: (err?: Error) => void): void {
  (pool.end as (callback: (err?: Error) => void) => void).call(pool, callback);
}

/** A Client class whose connect always fails with `error` (pg-pool's own events test does the same). */
function failingClient(error: Error): new () => EventEmitter {
  return class FailingClient extends EventEmitter {
    connect(callback: (err: Error) => void): void {
      process.nextTick(() => callback(error));
    }
    end(callback?: () => void): void {
      process.nextTick(() => callback?.());
    }
  };
}

for (const [label, PoolClass] of CONTENDERS) {
  describe(`${label}: pg-pool 3.14's behaviour`, () => {
    const pools: pg.Pool[] = [];
    after(async () => {
      // A pool whose client a failed test still holds would make end() wait forever.
      await Promise.race([Promise.all(pools.filter((p) => !p.ending).map((p) => p.end().catch(() => undefined))), sleep(5000)]);
    });

    function makePool(config: pg.PoolConfig = {}): pg.Pool {
      const pool = new PoolClass({ connectionString: POSTGRES_URL, application_name: uniqueName('pgcompat'), ...config });
      pools.push(pool);
      return pool;
    }

    async function live(t: TestContext): Promise<boolean> {
      return requireServer(t, POSTGRES_URL, 'postgres');
    }

    describe('1. errors pass through unwrapped', () => {
      it("a refused connection rejects with the driver's own error, every time (no breaker, no wrapping)", async (t) => {
        const port = await freeLoopbackPort();
        const pool = makePool({ connectionString: undefined, host: '127.0.0.1', port, max: 2 });
        for (let i = 0; i < 7; i++) {
          await assert.rejects(pool.connect(), (error: NodeJS.ErrnoException & { port?: number }) => {
            assert.equal(error.code, 'ECONNREFUSED');
            assert.equal(error.syscall, 'connect');
            assert.equal(error.port, port);
            assert.equal(error.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
            return true;
          });
        }
        const viaCallback = await new Promise<Error | undefined>((resolve) => pool.connect((err) => resolve(err)));
        assert.equal((viaCallback as NodeJS.ErrnoException).code, 'ECONNREFUSED');
        await assert.rejects(pool.query('SELECT 1'), { code: 'ECONNREFUSED' });
        assert.equal(pool.totalCount, 0);
        t.diagnostic(`${label}: ECONNREFUSED passed through 9 times`);
      });

      it("a custom Client's failed connect reaches the caller as that very error, and emits no 'connect'", async () => {
        const badNews = new Error('bad news');
        const pool = makePool({ Client: failingClient(badNews) as unknown as typeof pg.Client });
        pool.on('connect', () => assert.fail("'connect' for a client that never connected"));
        await assert.rejects(pool.connect(), (error) => error === badNews);
        await assert.rejects(pool.query('SELECT 1'), (error) => error === badNews);
        assert.equal(pool.totalCount, 0);
      });

      it('a server refusal keeps its SQLSTATE and fields (3D000: no such database)', async (t) => {
        if (!(await live(t))) return;
        const missing = uniqueName('no_such_db');
        const url = new URL(POSTGRES_URL);
        url.pathname = `/${missing}`;
        const pool = makePool({ connectionString: url.href });
        await assert.rejects(pool.connect(), (error: pg.DatabaseError) => {
          assert.ok(error instanceof pg.DatabaseError);
          assert.equal(error.code, '3D000');
          assert.equal(error.severity, 'FATAL');
          assert.equal(error.message, `database "${missing}" does not exist`);
          return true;
        });
      });

      it("a server that drops every connection: each caller, queued ones too, gets the driver's error", async (t) => {
        const server = await fakeServer((socket) => socket.destroy());
        t.after(() => server.close());
        const pool = makePool({ connectionString: undefined, host: '127.0.0.1', port: server.port, max: 1 });
        const results = await Promise.allSettled([pool.connect(), pool.connect()]);
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          const error = (result as PromiseRejectedResult).reason as NodeJS.ErrnoException;
          assert.ok(
            error.code === 'ECONNRESET' || error.message === 'Connection terminated unexpectedly',
            `driver error expected, got ${error.code} ${error.message}`,
          );
        }
      });
    });

    describe('2. connectionTimeoutMillis', () => {
      it("a caller queued past it gets pg-pool's message, in promise and callback forms, pool.query too; the pool recovers", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1, connectionTimeoutMillis: 150 });
        const held = await pool.connect();
        await assert.rejects(pool.connect(), { message: 'timeout exceeded when trying to connect' });
        const [connectError, connectClient] = await new Promise<[Error | undefined, unknown]>((resolve) =>
          pool.connect((err, client) => resolve([err, client])),
        );
        assert.equal(connectError?.message, 'timeout exceeded when trying to connect');
        assert.equal(connectClient, undefined);
        const [queryError, queryResult] = await new Promise<[Error | undefined, unknown]>((resolve) =>
          pool.query('SELECT 1', (err: Error | undefined, result: unknown) => resolve([err, result])),
        );
        assert.equal(queryError?.message, 'timeout exceeded when trying to connect');
        assert.equal(queryResult, undefined);
        assert.equal(pool.waitingCount, 0);
        held.release();
        assert.equal((await pool.query('SELECT $1::text AS name', ['brianc'])).rows[0].name, 'brianc');
      });

      it("a connect the server never answers fails with pg-pool's connect-timeout error, the driver's as its cause", async (t) => {
        const server = await fakeServer(() => undefined);
        t.after(() => server.close());
        const pool = makePool({ connectionString: undefined, host: '127.0.0.1', port: server.port, connectionTimeoutMillis: 100 });
        for (let i = 0; i < 3; i++) {
          await assert.rejects(pool.connect(), (error: Error) => {
            assert.equal(error.message, 'Connection terminated due to connection timeout');
            assert.ok(error.cause instanceof Error, 'the driver error is the cause');
            return true;
          });
          assert.equal(pool.idleCount, 0);
          assert.equal(pool.totalCount, 0);
        }
      });
    });

    describe('3. end() lets work asked before it finish', () => {
      it('max 20, 20 queries, then end(): all 20 complete', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 20 });
        const queries = Array.from({ length: 20 }, (_, i) => pool.query('SELECT $1::int AS i', [i]));
        await pool.end();
        const rows = await Promise.all(queries);
        assert.deepEqual(
          rows.map((r) => r.rows[0].i),
          Array.from({ length: 20 }, (_, i) => i),
        );
        assert.equal(pool.ended, true);
        assert.equal(pool.totalCount, 0);
      });

      it('a query issued before end() and awaited after it resolves with its rows', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool();
        const query = pool.query('SELECT $1::text AS name', ['brianc']);
        await pool.end();
        assert.equal((await query).rows[0].name, 'brianc');
      });

      it("end() waits for a lent client, which keeps working; calls after end() get pg-pool's errors", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 2 });
        const client = await pool.connect();
        let ended = false;
        const ending = pool.end().then(() => {
          ended = true;
        });
        assert.equal(pool.ending, true);
        for (let i = 0; i < 5; i++) await nextTurn();
        assert.equal(ended, false, 'end waits for the lent client');
        assert.equal(pool.ended, false);
        const refused = { message: 'Cannot use a pool after calling end on the pool' };
        await assert.rejects(pool.connect(), refused);
        await assert.rejects(pool.query('SELECT 1'), refused);
        const viaCallbacks = await new Promise<(Error | undefined)[]>((resolve) =>
          pool.query('SELECT 1', (queryErr: Error | undefined) =>
            pool.connect((connectErr) => endWithCallback(pool, (endErr) => resolve([queryErr, connectErr, endErr]))),
          ),
        );
        assert.deepEqual(
          viaCallbacks.map((e) => e?.message),
          [refused.message, refused.message, 'Called end on pool more than once'],
        );
        await assert.rejects(pool.end(), { message: 'Called end on pool more than once' });
        assert.equal((await client.query('SELECT 3 AS n')).rows[0].n, 3, 'the holder may finish its work');
        client.release();
        await ending;
        assert.equal(pool.ended, true);
        assert.equal(pool.totalCount, 0);
      });

      it("end() removes idle clients at once and has ended as the last one leaves, before its 'remove'", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 2 });
        const [a, b] = [await pool.connect(), await pool.connect()];
        a.release();
        b.release();
        let removed = 0;
        pool.on('remove', () => removed++);
        const ending = pool.end();
        assert.equal(pool.totalCount, 0);
        assert.equal(pool.idleCount, 0);
        assert.equal(pool.ended, true);
        assert.equal(removed, 0, "'remove' comes as each client's connection has ended");
        await ending;
        await waitFor(() => removed === 2, "two 'remove' events");
      });

      it('end(callback) on a pool never used', async () => {
        const pool = makePool();
        await new Promise<void>((resolve, reject) => endWithCallback(pool, (err) => (err ? reject(err) : resolve())));
        assert.equal(pool.ended, true);
      });
    });

    describe('4. events', () => {
      it("'connect' comes once per new client, before the connect() callback, followed by 'acquire'", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const seen: [string, unknown][] = [];
        for (const event of ['connect', 'acquire', 'release', 'remove'] as const) {
          pool.on(event as 'release', (...args: unknown[]) => seen.push([event, args.at(-1)]));
        }
        const [client, release] = await new Promise<[pg.PoolClient, () => void]>((resolve, reject) =>
          pool.connect((err, c, done) => {
            if (err || c === undefined) return reject(err);
            assert.deepEqual(
              seen.map(([event]) => event),
              ['connect', 'acquire'],
              'connect and acquire before the callback',
            );
            resolve([c, done]);
          }),
        );
        assert.ok(seen.every(([, c]) => c === client));
        release();
        const again = await pool.connect();
        again.release();
        assert.deepEqual(
          seen.map(([event]) => event),
          ['connect', 'acquire', 'release', 'acquire', 'release'],
        );
      });

      it("'acquire' and 'release' for every checkout, pool.query included; 'release' carries what it was given, then 'remove'", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 3 });
        let acquired = 0;
        const released: [unknown, unknown][] = [];
        const removed: unknown[] = [];
        pool.on('acquire', (client) => {
          assert.ok(client);
          acquired++;
        });
        pool.on('release', (err, client) => released.push([err, client]));
        pool.on('remove', (client) => removed.push(client));
        await Promise.all(
          Array.from({ length: 5 }, async () => {
            const client = await pool.connect();
            client.release();
            await pool.query('SELECT now()');
          }),
        );
        assert.equal(acquired, 10);
        assert.equal(released.length, 10);
        assert.ok(released.every(([err, client]) => !(err instanceof Error) && client !== undefined));
        const client = await pool.connect();
        const problem = new Error('problem');
        client.release(problem);
        assert.deepEqual(released.at(-1), [problem, client]);
        await waitFor(() => removed.length === 1, "'remove' after release(err)");
        assert.equal(removed[0], client);
      });

      it("a failed verify: 'connect', 'acquire', 'release' with its error, 'remove'; the caller gets the error", async (t) => {
        if (!(await live(t))) return;
        const refusal = new Error('verify said no');
        const pool = makePool({ max: 1, verify: (_client, done) => setImmediate(() => done(refusal)) } as pg.PoolConfig);
        const seen: string[] = [];
        let releasedWith: unknown;
        pool.on('connect', () => seen.push('connect'));
        pool.on('acquire', () => seen.push('acquire'));
        pool.on('release', (err) => {
          seen.push('release');
          releasedWith = err;
        });
        pool.on('remove', () => seen.push('remove'));
        await assert.rejects(pool.connect(), (error) => error === refusal);
        await waitFor(() => seen.includes('remove'), "'remove' of the refused client");
        assert.deepEqual(seen, ['connect', 'acquire', 'release', 'remove']);
        assert.equal(releasedWith, refusal);
        assert.equal(pool.totalCount, 0);
      });

      it("an idle client's error: 'error' with (err, client), err.client set, the client removed at once", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool();
        const client = await pool.connect();
        client.release();
        let poolError: [Error & { client?: unknown }, unknown] | undefined;
        pool.once('error', (err, errClient) => {
          poolError = [err, errClient];
        });
        let removed = false;
        pool.on('remove', () => {
          removed = true;
        });
        client.emit('error', new Error('expected'));
        assert.equal(poolError?.[0].message, 'expected');
        assert.equal(poolError?.[1], client);
        assert.equal(poolError?.[0].client, client);
        assert.equal(pool.idleCount, 0);
        assert.equal(pool.totalCount, 0);
        await waitFor(() => removed, "'remove' of the failed idle client");
      });

      it("a lent client's error is its holder's: no pool 'error', the client stays counted", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool();
        const client = await pool.connect();
        let clientError: Error | undefined;
        client.once('error', (err) => {
          clientError = err;
        });
        pool.on('error', () => assert.fail("pool 'error' for a lent client"));
        client.emit('error', new Error('expected'));
        assert.equal(clientError?.message, 'expected');
        assert.equal(pool.totalCount, 1);
        assert.equal(pool.idleCount, 0);
        client.release();
        assert.equal(pool.idleCount, 1, 'still able to work, so kept');
      });
    });

    describe('5. idle clients are removed on time', () => {
      it('idle for idleTimeoutMillis + 10 ms: none is left, and remove sees the counters at 0', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ idleTimeoutMillis: 100 });
        const removals: [number, number][] = [];
        pool.on('remove', () => removals.push([pool.idleCount, pool.totalCount]));
        const [a, b] = [await pool.connect(), await pool.connect()];
        a.release();
        b.release();
        assert.equal(pool.idleCount, 2);
        // Both idle timers were armed above, so they are due before this sleep's timer, however late it runs.
        await sleep(110);
        assert.equal(pool.idleCount, 0);
        assert.equal(pool.totalCount, 0);
        await waitFor(() => removals.length === 2, "two 'remove' events");
        assert.deepEqual(removals.at(-1), [0, 0]);
      });

      it('a client removed idle is replaced by a new one on the next query, over and over', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ idleTimeoutMillis: 5 });
        for (let i = 0; i < 5; i++) {
          const query = pool.query('SELECT NOW()');
          assert.equal(pool.idleCount, 0);
          assert.equal(pool.totalCount, 1);
          await query;
          await sleep(15);
          assert.equal(pool.idleCount, 0);
          assert.equal(pool.totalCount, 0);
        }
      });

      it('a client in use is never reaped, and is idle again after its release', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ idleTimeoutMillis: 5 });
        for (let i = 0; i < 3; i++) {
          const client = await pool.connect();
          await sleep(20);
          assert.equal((await client.query('SELECT 1 AS n')).rows[0].n, 1);
          client.release();
          assert.equal(pool.idleCount, 1);
          assert.equal(pool.totalCount, 1);
        }
      });
    });

    describe('6. maxLifetimeSeconds', () => {
      it("an idle client past its lifetime leaves ('acquire', 'release', 'remove'), counted nowhere after", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ maxLifetimeSeconds: 1 });
        await pool.query('SELECT NOW()');
        const seen: string[] = [];
        let atRemove: [number, number] | undefined;
        for (const event of ['acquire', 'release'] as const) pool.on(event as 'release', () => seen.push(event));
        pool.on('remove', () => {
          seen.push('remove');
          atRemove = [pool.expiredCount, pool.totalCount];
        });
        await waitFor(() => atRemove !== undefined, 'the idle client removed after its lifetime');
        assert.deepEqual(atRemove, [0, 0]);
        assert.deepEqual(seen, ['acquire', 'release', 'remove']);
      });

      it('a busy client past its lifetime counts in expiredCount and is removed at its release', async (t) => {
        if (!(await live(t))) return;
        const messages: unknown[] = [];
        const pool = makePool({ maxLifetimeSeconds: 1, log: (message: unknown) => messages.push(message) } as pg.PoolConfig);
        const client = await pool.connect();
        assert.equal(pool.expiredCount, 0);
        await waitFor(() => pool.expiredCount === 1, 'expiredCount 1 once the lifetime passed');
        assert.equal(pool.totalCount, 1);
        client.release();
        assert.equal(pool.expiredCount, 0);
        assert.equal(pool.totalCount, 0);
        assert.ok(messages.includes('remove expired client'));
        assert.ok(messages.includes('ending client due to expired lifetime'));
        await pool.query('SELECT NOW()');
        assert.equal(pool.totalCount, 1);
      });
    });

    describe('7. maxUses', () => {
      it('a client is removed at the release that expends it, logged as pg-pool logs it', async (t) => {
        if (!(await live(t))) return;
        const messages: unknown[] = [];
        const pool = makePool({ maxUses: 2, log: (message: unknown) => messages.push(message) } as pg.PoolConfig);
        const client = (await pool.connect()) as ClientFields;
        client.release();
        const again = (await pool.connect()) as ClientFields;
        assert.equal(again, client);
        assert.equal(again._ending, false);
        again.release();
        assert.equal(again._ending, true, 'being ended as release() returns');
        assert.equal(pool.totalCount, 0);
        assert.ok(messages.includes('remove expended client'));
        const third = await pool.connect();
        assert.notEqual(third, client);
        third.release();
      });

      it('a waiting caller gets a fresh client when the released one is expended', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1, maxUses: 2 });
        const first = await pool.connect();
        const second = pool.connect().then((client) => {
          assert.equal(client, first);
          assert.equal(pool.waitingCount, 1);
          client.release();
        });
        const third = pool.connect().then((client) => {
          assert.equal(pool.waitingCount, 0);
          assert.notEqual(client, first);
          client.release();
        });
        assert.equal(pool.waitingCount, 2);
        first.release();
        await Promise.all([second, third]);
      });

      it('an expended client is removed even at min', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1, min: 1, maxUses: 1 });
        const client = await pool.connect();
        client.release();
        assert.equal(pool.totalCount, 0);
      });
    });

    describe('8. released clients that cannot work are removed synchronously', () => {
      it('a client its holder ended', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const client = await pool.connect();
        const ended = client.end();
        client.release();
        assert.equal(pool.totalCount, 0);
        assert.equal(pool.idleCount, 0);
        await ended;
        assert.equal((await pool.query('SELECT NOW()')).rows.length, 1);
      });

      it('a client whose connection was cut', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const client = (await pool.connect()) as ClientFields;
        const failed = new Promise((resolve) => client.once('error', resolve));
        client.connection.end();
        assert.ok(await failed);
        assert.equal(pool.totalCount, 1);
        client.release();
        assert.equal(pool.totalCount, 0);
        assert.equal(pool.idleCount, 0);
        assert.equal((await pool.query('SELECT NOW()')).rows.length, 1);
      });
    });

    describe('9. min', () => {
      it('opens nothing by itself, and spares clients from idle removal down to min', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ min: 2, max: 4, idleTimeoutMillis: 100 });
        assert.equal(pool.totalCount, 0);
        const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
        for (const client of clients) client.release();
        assert.equal(pool.idleCount, 3);
        await sleep(110);
        assert.equal(pool.totalCount, 2);
        assert.equal(pool.idleCount, 2);
      });

      it('does not open clients up to min', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ min: 3, max: 4 });
        await pool.query('SELECT 1');
        for (let i = 0; i < 5; i++) await nextTurn();
        assert.equal(pool.totalCount, 1);
      });
    });

    describe('10. counters are exact right after each call', () => {
      it('totalCount, idleCount and waitingCount', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const first = pool.connect();
        assert.equal(pool.totalCount, 1, 'a client being opened counts');
        assert.equal(pool.waitingCount, 0);
        const client = await first;
        const waiters = [pool.connect(), pool.connect(), pool.connect()];
        assert.equal(pool.waitingCount, 3);
        client.release();
        assert.equal(pool.waitingCount, 2, 'the released client went to the first waiter');
        const served = await Promise.all(
          waiters.map((w) =>
            w.then((c) => {
              c.release();
              return c;
            }),
          ),
        );
        assert.ok(served.every((c) => c === client));
        assert.equal(pool.idleCount, 1);
        assert.equal(pool.waitingCount, 0);
        const again = await pool.connect();
        assert.equal(pool.idleCount, 0);
        again.release(new Error('discard'));
        assert.equal(pool.totalCount, 0);
        const query = pool.query('SELECT 1');
        assert.equal(pool.totalCount, 1);
        assert.equal(pool.idleCount, 0);
        await query;
        assert.equal(pool.idleCount, 1);
      });
    });

    describe('the rest of the API', () => {
      it("a second release() throws pg-pool's error; a released client stays usable, as pg.Pool users rely on", async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const client = await pool.connect();
        client.release();
        const twice = { message: 'Release called on client which has already been released to the pool.' };
        assert.throws(() => client.release(), twice);
        assert.throws(() => client.release(), twice);
        assert.equal((await client.query('SELECT 7 AS n')).rows[0].n, 7);
        const [err, done] = await new Promise<[Error | undefined, (release?: unknown) => void]>((resolve) =>
          pool.connect((e, _c, d) => resolve([e, d])),
        );
        assert.equal(err, undefined);
        done();
        assert.throws(() => done(), twice);
      });

      it('a client released inside a transaction is handed on as it is (pg.Pool resets nothing)', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        const client = await pool.connect();
        await client.query('BEGIN');
        client.release();
        const next = await pool.connect();
        assert.equal(next, client);
        assert.equal((next as pg.PoolClient & { getTransactionStatus(): string }).getTransactionStatus(), 'T');
        await next.query('ROLLBACK');
        next.release();
      });

      it('opens one connection per new client, however slow the server is to answer', async (t) => {
        let accepted = 0;
        const server = await fakeServer(() => {
          accepted++;
        });
        t.after(() => server.close());
        const pool = makePool({ connectionString: undefined, host: '127.0.0.1', port: server.port, connectionTimeoutMillis: 3000 });
        const attempt = pool.connect().catch((error: Error) => error);
        await waitFor(() => accepted === 1, 'the first connection reached the server');
        // Spillway's own pools would start another attempt after about 200 ms of waiting (hedging).
        await sleep(700);
        assert.equal(accepted, 1, 'no second attempt while the first is pending');
        assert.equal(pool.totalCount, 1);
        assert.equal(((await attempt) as Error).message, 'Connection terminated due to connection timeout');
        assert.equal(accepted, 1);
      });

      it("pool.query(function) calls it back with pg-pool's error and returns nothing", async () => {
        const pool = makePool();
        let returned: unknown = 'not called';
        const error = await new Promise<Error>((resolve) => {
          returned = pool.query(((err: Error) => resolve(err)) as unknown as string);
        });
        assert.equal(returned, undefined);
        assert.equal(error.message, 'Passing a function as the first parameter to pool.query is not supported');
      });

      it('SQL errors pass through with pg fields, and the pool keeps working', async (t) => {
        if (!(await live(t))) return;
        const pool = makePool({ max: 1 });
        for (let i = 0; i < 5; i++) {
          await assert.rejects(
            pool.query("SELECT 'asd'+1"),
            (error: pg.DatabaseError) => error instanceof pg.DatabaseError && error.code === '22P02',
          );
        }
        await assert.rejects(pool.query(null as unknown as string), TypeError);
        assert.equal((await pool.query('SELECT $1::text AS name', ['brianc'])).rows[0].name, 'brianc');
      });

      it('is a pg.Pool, with pg.Pool options filled in and the password hidden', () => {
        const pool = makePool({ password: 's3cret' });
        assert.ok(pool instanceof pg.Pool);
        assert.ok(pool instanceof EventEmitter);
        const options = pool.options as pg.PoolOptions;
        assert.deepEqual(
          [options.max, options.min, options.idleTimeoutMillis, options.maxUses, options.allowExitOnIdle, options.maxLifetimeSeconds],
          [10, 0, 10_000, Number.POSITIVE_INFINITY, false, 0],
        );
        assert.equal(options.password, 's3cret');
        assert.ok(!Object.keys(options).includes('password'));
      });

      it('Promise option: the promises it returns are of that class', async (t) => {
        if (!(await live(t))) return;
        class OwnPromise<T> extends Promise<T> {}
        const pool = makePool({ Promise: OwnPromise } as pg.PoolConfig);
        const connecting = pool.connect();
        assert.ok(connecting instanceof OwnPromise);
        (await connecting).release();
        const querying = pool.query('SELECT 1');
        assert.ok(querying instanceof OwnPromise);
        await querying;
      });
    });
  });
}
