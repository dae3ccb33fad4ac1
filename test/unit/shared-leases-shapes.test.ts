import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROBATION_RUNS } from '../../src/dialect/postgres/postgres-shape-costs.js';
import { MemoryConnector } from '../support/memory-connector.js';
import { sharedLeasesHarness } from '../support/shared-leases-harness.js';

/**
 * Scheduling by statement shape (issue 12): the scheduler learns each key's cost from the answers and
 * only pipelines keys measured fast. The clock is stepped by hand, so every measured cost is exact.
 */
describe('SharedLeases: cost per shape', () => {
  it('runs an unknown key alone, then pipelines it once it is measured fast; a slow key keeps running alone', async () => {
    const t = sharedLeasesHarness({ size: 3, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10 });
    try {
      assert.equal(t.shape('fast'), undefined, 'unknown before its second sight');
      await t.learn('fast', 0.05);
      await t.learn('slow', 300);
      assert.equal(t.shape('fast')?.mode, 'shared');
      assert.equal(t.shape('slow')?.mode, 'exclusive');
      assert.equal(t.shape('slow')?.reason, 'slow');
      const before = t.shared.status;

      const slow = t.run('slow');
      const fast = Array.from({ length: 6 }, () => t.run('fast'));
      await t.tick();
      const slowOn = t.busy().find((id) => t.keysOn(id).includes('slow')) as number;
      assert.deepEqual(t.keysOn(slowOn), ['slow'], 'nothing is pipelined behind the slow statement');
      const fastOn = t.busy().filter((id) => id !== slowOn);
      assert.equal(
        fastOn.reduce((sum, id) => sum + t.inFlightOn(id), 0),
        6,
        'the fast ones are pipelined on the other connections',
      );
      assert.equal(t.shared.status.sharedRuns - before.sharedRuns, 6);
      assert.equal(t.shared.status.exclusiveRuns - before.exclusiveRuns, 1);

      // The fast ones are answered while the slow one is still in flight.
      for (const id of fastOn) while (t.inFlightOn(id) > 0) t.answer(id);
      assert.equal((await Promise.all(fast)).length, 6);
      t.advance(300);
      t.answer(slowOn);
      await slow;
    } finally {
      await t.close();
    }
  });

  it('keeps exclusive work within its share of the pool while shared work is about, so fast work always finds a connection', async () => {
    // 5 connections, exclusiveShare 0.8: at most 4 run alone while shared work is about.
    const t = sharedLeasesHarness({ size: 5, maxOverflow: 0 }, new MemoryConnector(), {
      maxInFlight: 10,
      alwaysExclusive: (key) => key === 'write',
    });
    try {
      await t.learn('fast', 0.05);
      await t.learn('slow', 300);
      await t.learn('write', 0.5);
      const fastFirst = t.run('fast');
      await t.tick();
      const slow = Array.from({ length: 6 }, () => t.run('slow'));
      await t.tick();
      assert.equal(t.shared.status.exclusiveInFlight, 4, 'the slow lane is full');
      assert.equal(t.shared.status.waiting, 2, 'two slow statements wait for it');
      const fast = Array.from({ length: 5 }, () => t.run('fast'));
      await t.tick();
      for (const id of t.busy()) {
        const keys = t.keysOn(id);
        if (keys.includes('slow')) assert.deepEqual(keys.slice(keys.indexOf('slow')), ['slow'], `nothing behind a slow one on ${id}`);
      }
      const fastOn = t.busy().filter((id) => t.keysOn(id).every((key) => key === 'fast'));
      assert.equal(fastOn.length, 1, 'the fast statements got the connection kept out of the slow lane');
      // A short exclusive statement (a write measured fast) does not wait for the full slow lane: it
      // goes last on the open connection.
      const write = t.run('write');
      await t.tick();
      assert.deepEqual(t.keysOn(fastOn[0] as number), [...Array(6).fill('fast'), 'write']);
      assert.equal(t.shared.status.exclusiveInFlight, 5);
      assert.equal(t.shared.status.slowLaneInFlight, 4);
      while (t.inFlightOn(fastOn[0] as number) > 0) t.answer(fastOn[0] as number);
      await Promise.all([fastFirst, ...fast, write]);

      // As a slow one finishes, a waiting one takes its place in the lane.
      const slowOn = t.busy().filter((id) => t.keysOn(id).includes('slow'));
      t.advance(300);
      t.answer(slowOn[0] as number);
      await t.tick();
      assert.equal(t.shared.status.exclusiveInFlight, 4);
      assert.equal(t.shared.status.waiting, 1);
      for (let round = 0; round < 3; round++) {
        t.advance(300);
        for (const id of t.busy()) t.answer(id);
        await t.tick();
      }
      assert.equal((await Promise.all(slow)).length, 6);
    } finally {
      await t.close();
    }
  });

  it('puts nothing behind a unit answering for longer than stuckAfterMs, and puts its shape on probation when stuck for long', async () => {
    const t = sharedLeasesHarness({ size: 3, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10 });
    try {
      await t.learn('lookup', 0.1);
      assert.equal(t.shape('lookup')?.mode, 'shared');
      // The next run of the learned shape blocks (say, on a table lock).
      const blocked = t.run('lookup');
      await t.tick();
      const [stuckOn] = t.busy();
      t.advance(5);
      const early = t.run('other');
      // Unknown keys run alone: place a keyless (shared) unit to see where shared work goes.
      const shared1 = t.run();
      await t.tick();
      assert.deepEqual(t.keysOn(stuckOn as number), ['lookup', '-'], 'within the bound, shared work still pipelines behind it');
      t.advance(20);
      const shared2 = t.run();
      await t.tick();
      assert.deepEqual(t.keysOn(stuckOn as number), ['lookup', '-'], 'past the bound, nothing more goes behind it');
      assert.equal(t.shape('lookup')?.mode, 'shared', 'not yet suspected');
      t.advance(60);
      const shared3 = t.run();
      await t.tick();
      assert.equal(t.shape('lookup')?.mode, 'exclusive', 'stuck past 50 ms: its shape is on probation');
      assert.equal(t.shape('lookup')?.reason, 'probation');
      for (const id of t.busy()) if (id !== stuckOn) while (t.inFlightOn(id) > 0) t.answer(id);
      await Promise.all([early, shared2, shared3]);
      t.answer(stuckOn as number);
      t.answer(stuckOn as number);
      await Promise.all([blocked, shared1]);
    } finally {
      await t.close();
    }
  });

  it('survives a shape that is fast 99 times and then slow once: that run alone is slow, and the shape is learned again', async () => {
    const t = sharedLeasesHarness({ size: 3, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10 });
    try {
      await t.learn('q', 0.1, 99);
      const learned = t.shape('q');
      assert.equal(learned?.mode, 'shared');
      const costBefore = learned?.costMs as number;

      // The 100th run is slow (300 ms): answered late, with nothing else in flight.
      const slow = t.run('q');
      await t.tick();
      const [id] = t.busy();
      t.advance(300);
      t.answer(id as number);
      await slow;
      const after = t.shape('q');
      assert.equal(after?.mode, 'exclusive', 'its next runs go alone');
      assert.equal(after?.reason, 'probation');
      assert.ok((after?.costMs as number) < 4 * costBefore + 0.1, `one outlier barely moves the cost (${after?.costMs} ms)`);

      // The runs on probation go alone; once they are measured fast, the shape shares again.
      const exclusiveBefore = t.shared.status.exclusiveRuns;
      await t.learn('q', 0.1, PROBATION_RUNS);
      assert.equal(t.shared.status.exclusiveRuns - exclusiveBefore, PROBATION_RUNS);
      assert.equal(t.shape('q')?.mode, 'shared', 'learned fast again');

      // A shape that stays slow after the outlier turns slow for good within its probation.
      const lasting = t.run('q');
      await t.tick();
      t.advance(300);
      t.answer(t.busy()[0] as number);
      await lasting;
      await t.learn('q', 300, PROBATION_RUNS);
      assert.equal(t.shape('q')?.mode, 'exclusive');
      assert.equal(t.shape('q')?.reason, 'slow');
    } finally {
      await t.close();
    }
  });

  it('pipelines fast statements with large answers only up to the size budget per connection; the rest wait their turn', async () => {
    const t = sharedLeasesHarness({ size: 2, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10, sizeBudget: 250 });
    try {
      await t.learn('big', 0.05, 3, 100);
      await t.learn('small', 0.05, 3, 1);
      const big = Array.from({ length: 6 }, () => t.run('big'));
      await t.tick();
      assert.deepEqual(
        t.busy().map((id) => t.inFlightOn(id)),
        [2, 2],
        'two answers of 100 rows per connection (budget 250)',
      );
      assert.equal(t.shared.status.waiting, 2);
      const small = Array.from({ length: 4 }, () => t.run('small'));
      await t.tick();
      assert.equal(t.shared.status.waiting, 6, 'small ones wait their turn behind the big ones, first come first served');
      const [first] = t.busy();
      t.answer(first as number, undefined, first, 100);
      await t.tick();
      assert.deepEqual(t.keysOn(first as number), ['big', 'big'], 'the oldest waiting takes the room');
      for (let round = 0; round < 20 && t.busy().length > 0; round++) {
        for (const id of t.busy()) {
          assert.ok(t.keysOn(id).filter((key) => key === 'big').length <= 2, 'never more than 250 rows in flight on one connection');
          t.answer(id, undefined, id, t.keysOn(id)[0] === 'big' ? 100 : 1);
        }
        await t.tick();
      }
      assert.equal((await Promise.all([...big, ...small])).length, 10);
    } finally {
      await t.close();
    }
  });

  it('never pipelines a key the dialect marks always-exclusive, however fast it is', async () => {
    const t = sharedLeasesHarness({ size: 2, maxOverflow: 0 }, new MemoryConnector(), {
      maxInFlight: 10,
      alwaysExclusive: (key) => key.startsWith('UPDATE'),
    });
    try {
      await t.learn('UPDATE t', 0.05, 5);
      assert.equal(t.shape('UPDATE t')?.mode, 'exclusive');
      assert.equal(t.shape('UPDATE t')?.reason, 'always exclusive');
      assert.equal(t.shape('UPDATE t')?.exclusiveRuns, 5, 'every run counted alone');
    } finally {
      await t.close();
    }
  });
});
