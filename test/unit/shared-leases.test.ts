import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryConnector } from '../support/memory-connector.js';
import { resilienceFor } from '../support/pool-fixtures.js';
import { sharedLeasesHarness } from '../support/shared-leases-harness.js';

function setup(
  settings: Parameters<typeof sharedLeasesHarness>[0] = {},
  connector = new MemoryConnector(),
  poolOptions: Parameters<typeof sharedLeasesHarness>[3] = {},
) {
  // The real clock: these tests wait on real timers (a stuck connect) and learn no shapes.
  return sharedLeasesHarness(settings, connector, { clock: undefined, loopBeatMs: undefined }, poolOptions);
}

describe('SharedLeases', () => {
  it('never puts more than maxInFlight on a connection, and queues the rest FIFO within the pool size', async () => {
    const t = setup({ size: 2, maxOverflow: 0 });
    const results = Array.from({ length: 6 }, () => t.run());
    await t.tick();
    assert.equal(t.pool.status().total, 2);
    assert.equal(t.inFlightOn(1), 2);
    assert.equal(t.inFlightOn(2), 2);
    assert.equal(t.shared.status.waiting, 2);
    t.answer(1);
    assert.equal(t.inFlightOn(1), 2, 'the freed room went to the oldest waiting unit');
    for (let i = 0; i < 3; i++) {
      t.answer(1);
      t.answer(2);
    }
    assert.deepEqual((await Promise.all(results)).length, 6);
    assert.equal(t.sent(), 6);
    await t.shared.close(0);
    await t.pool.close({ graceMs: 0 });
  });

  it('lets an exclusive borrower have a shared connection once its work in flight is done', async () => {
    const t = setup({ size: 1, maxOverflow: 0 });
    const first = [t.run(), t.run()];
    await t.tick();
    const exclusive = t.pool.acquire();
    t.answer(1);
    const later = t.run(); // queued behind the exclusive borrower: the connection is draining
    t.answer(1);
    await Promise.all(first);
    const lease = await exclusive;
    assert.equal(t.inFlightOn(1), 0, 'nothing shared runs while it is lent exclusively');
    lease.release();
    await t.tick();
    t.answer(1);
    assert.equal(await later, 1);
    await t.shared.close(0);
    await t.pool.close({ graceMs: 0 });
  });

  it('on a fatal error discards that connection alone, fails its work in flight, and sends waiting work elsewhere once', async () => {
    const t = setup({ size: 2, maxOverflow: 0 });
    const calls = Array.from({ length: 5 }, () => t.run());
    const settled = Promise.allSettled(calls);
    await t.tick();
    const reset = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    t.answer(1, reset); // the driver fails everything in flight on the broken connection
    t.answer(1, reset);
    await t.tick();
    assert.deepEqual(t.aborted, [1]);
    // The waiting unit went to connection 2 (or a new connection 3), never back to 1.
    for (const id of [2, 3]) while (t.inFlightOn(id) > 0) t.answer(id);
    await t.tick();
    for (const id of [2, 3]) while (t.inFlightOn(id) > 0) t.answer(id);
    const outcome = await settled;
    assert.equal(outcome.filter((r) => r.status === 'rejected').length, 2);
    assert.equal(outcome.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal(t.sent(), 5, 'no unit was sent twice');
    await t.shared.close(0);
    await t.pool.close({ graceMs: 0 });
  });

  it('passes a connect failure to the oldest waiting caller and POOL_CLOSED to all after close', async () => {
    const failure = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const connector = new MemoryConnector({ failConnect: () => failure });
    const t = setup({ size: 1, maxOverflow: 0 }, connector);
    await assert.rejects(t.run(), /refused/);
    connector.options = {};
    const waiting = t.run();
    await t.shared.close(0);
    await assert.rejects(waiting, (error: { code?: string }) => error.code === 'POOL_CLOSED');
    await assert.rejects(t.run(), (error: { code?: string }) => error.code === 'POOL_CLOSED');
    await t.pool.close({ graceMs: 0 });
  });

  it("lets the circuit breaker's half-open trial borrow its connection, so one success closes the breaker", async () => {
    const failure = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const connector = new MemoryConnector({ failConnect: () => failure });
    const isFatal = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';
    const resilience = resilienceFor(
      { circuit: { failureThreshold: 1, recoveryTimeoutMs: 20 }, leakThresholdMs: 0, leakAction: 'warn' },
      isFatal,
    );
    const t = setup({ size: 1, maxOverflow: 0 }, connector, { gate: resilience.gate });
    const { breaker } = resilience;
    await assert.rejects(t.run(), /refused/);
    assert.equal(breaker.state, 'open');
    await assert.rejects(t.run(), (error: { code?: string }) => error.code === 'CIRCUIT_OPEN', 'refused at once while open');
    connector.options = {};
    await new Promise((resolve) => setTimeout(resolve, 30));
    // This call is the trial: the multiplexer admitted it, so its own borrowing must not be refused as a second trial.
    const trial = t.run();
    await t.tick();
    t.answer(1);
    assert.equal(await trial, 1);
    assert.equal(breaker.state, 'closed', 'the trial connected and closed the breaker');
    await t.shared.close(0);
    await t.pool.close({ graceMs: 0 });
  });

  it('asks the pool again when a request is stuck, so waiting work is not held behind one hung connect', async () => {
    /** The first connect hangs until released (a connect into a dead network); later ones succeed. */
    class FirstConnectHangs extends MemoryConnector {
      release: (() => void) | undefined;
      #calls = 0;
      override async connect(context: Parameters<MemoryConnector['connect']>[0]) {
        if (this.#calls++ === 0) await new Promise<void>((resolve) => (this.release = resolve));
        return super.connect(context);
      }
    }
    const connector = new FirstConnectHangs();
    const t = setup({ size: 2, maxOverflow: 0, checkoutTimeoutMs: 5000, connectTimeoutMs: 5000 }, connector);
    const calls = [t.run(), t.run(), t.run()];
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(t.inFlightOn(1), 2, 'a second request opened a connection and the waiting work went to it (maxInFlight 2)');
    t.answer(1);
    t.answer(1);
    await t.tick();
    t.answer(1);
    assert.deepEqual(await Promise.all(calls), [1, 1, 1]);
    connector.release?.();
    await t.tick();
    await t.shared.close(0);
    await t.pool.close({ graceMs: 0 });
  });
});
