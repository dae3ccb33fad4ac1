import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Lease } from '../../src/pool/lease.js';
import type { MemoryConnection } from '../support/memory-connector.js';
import { memoryPool } from '../support/pool-fixtures.js';

type Op =
  | { kind: 'acquire'; timeoutMs: number }
  | { kind: 'release'; index: number; withError: boolean }
  | { kind: 'kill'; index: number }
  | { kind: 'tick'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('acquire' as const), timeoutMs: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('release' as const), index: fc.nat(), withError: fc.boolean() }),
  fc.record({ kind: fc.constant('kill' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 8 }) }),
);

const flush = (ms: number) => new Promise<void>((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));

test('pool invariants hold for any sequence of checkouts, returns, failures and timeouts', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(op, { minLength: 1, maxLength: 60 }),
      async (size, maxOverflow, ops) => {
        const { pool, connector } = memoryPool({ size, maxOverflow, checkoutTimeoutMs: 20 });
        const max = size + maxOverflow;
        const held: Lease<MemoryConnection>[] = [];
        const served: number[] = [];
        let arrivals = 0;
        const pending: Promise<void>[] = [];

        const check = () => {
          const s = pool.status();
          // The counts against what the connector saw, not against status()'s own sum: every pending connect
          // attempt is an opening entry, every open connection an entry (idle, lent, or being closed), and
          // every idle entry an open connection.
          assert.equal(s.opening, connector.pendingConnects, 'opening entries = connect attempts in flight');
          assert.ok(s.checkedIn + s.checkedOut + s.closing >= connector.openCount, 'every open connection is counted');
          assert.ok(s.checkedIn <= connector.openCount, 'every idle entry holds an open connection');
          assert.ok(s.total <= max, `total ${s.total} <= max ${max}`);
          assert.ok(connector.openCount <= max, `open ${connector.openCount} <= max ${max}`);
          for (const c of connector.connections) assert.ok(c.holders <= 1, 'no connection lent to two borrowers');
          assert.ok(s.checkedOut >= held.length, 'every held lease is counted as checked out');
        };

        for (const step of ops) {
          if (step.kind === 'acquire') {
            const arrival = arrivals++;
            pending.push(
              pool.acquire({ timeoutMs: step.timeoutMs }).then(
                (lease) => {
                  served.push(arrival);
                  lease.connection.holders++;
                  held.push(lease);
                },
                (error: { code?: string }) => {
                  assert.ok(['POOL_TIMEOUT', 'POOL_CLOSED'].includes(error.code ?? ''), `unexpected ${String(error)}`);
                },
              ),
            );
          } else if (step.kind === 'release' && held.length > 0) {
            const [lease] = held.splice(step.index % held.length, 1);
            lease!.connection.holders--;
            lease!.release(step.withError ? new Error('discard') : undefined);
          } else if (step.kind === 'kill') {
            const open = connector.connections.filter((c) => c.open);
            if (open.length > 0) connector.kill(open[step.index % open.length]!);
          } else if (step.kind === 'tick') {
            await flush(step.ms);
          }
          await flush(0);
          check();
        }
        // Waiters are served in arrival order: with one timeout for all, the served order is increasing.
        for (let i = 1; i < served.length; i++) assert.ok(served[i]! > served[i - 1]!, `served in order: ${served.join(',')}`);
        for (const lease of held.splice(0)) {
          lease.connection.holders--;
          lease.release();
        }
        await pool.close({ graceMs: 100 });
        await Promise.all(pending);
        assert.equal(connector.openCount, 0, 'nothing left open after close()');
        assert.equal(pool.status().total, 0);
      },
    ),
    { numRuns: 150 },
  );
});
