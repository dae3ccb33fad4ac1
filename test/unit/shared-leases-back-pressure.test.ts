import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryConnector } from '../support/memory-connector.js';
import { waitFor } from '../support/polling.js';
import { sharedLeasesHarness } from '../support/shared-leases-harness.js';

/**
 * Back-pressure from the slow lane (issue 12, the random mix): when slow statements wait for the full
 * lane, fast work that came after them waits for them to start first, a bounded while, so callers
 * that run both kinds do not pile up behind the lane. The scheduler's clock is stepped by hand; the
 * pool is in memory (no database decides who gets which connection).
 */
type Harness = ReturnType<typeof sharedLeasesHarness>;

/** 5 connections, exclusiveShare 0.8: the slow lane holds 4. Fills it and queues `waiting` more slow ones. */
async function fullLane(t: Harness, waiting: number): Promise<{ slow: Promise<number>[]; slowOn: number[] }> {
  await t.learn('fast', 0.05);
  await t.learn('slow', 300);
  const slow = Array.from({ length: 4 + waiting }, () => t.run('slow'));
  // Keep shared work about (the lane's share applies only then).
  const fast = t.run('fast');
  await t.tick();
  const slowOn = t.busy().filter((id) => t.keysOn(id).includes('slow'));
  assert.equal(slowOn.length, 4, 'the lane is full');
  assert.equal(t.shared.status.waiting, waiting);
  for (const id of t.busy()) if (!slowOn.includes(id)) while (t.inFlightOn(id) > 0) t.answer(id);
  await fast;
  return { slow, slowOn };
}

const running = (t: Harness, key: string) => t.busy().some((id) => t.keysOn(id).includes(key));

/** Answer everything in flight but the slow statements. */
function answerFast(t: Harness): void {
  for (const id of t.busy()) if (!t.keysOn(id).includes('slow')) while (t.inFlightOn(id) > 0) t.answer(id);
}

/** Let the slow statements finish, 300 ms at a time, the waiting ones taking their turns. */
async function finishSlow(t: Harness): Promise<void> {
  while (t.shared.status.inFlight > 0) {
    t.advance(300);
    for (const id of t.busy()) t.answer(id);
    await t.tick();
  }
}

describe('SharedLeases: back-pressure from the slow lane', () => {
  it('holds fast work arriving after a slow statement that waits for the full lane until that one starts', async () => {
    const t = sharedLeasesHarness({ size: 5, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10 });
    try {
      const { slow, slowOn } = await fullLane(t, 1);
      // Past its allowance (5 % of 300 ms): the waiting slow statement now holds newer fast work back.
      t.advance(20);
      const sentBefore = t.sent();
      const fast = Array.from({ length: 3 }, () => t.run('fast'));
      await t.tick();
      assert.equal(t.sent(), sentBefore, 'no fast statement is sent while the slow one waits for the lane');
      assert.equal(t.shared.status.waiting, 4);

      // A slow statement finishes: the waiting one takes its place first, then the fast ones go.
      t.advance(280);
      t.answer(slowOn[0] as number);
      await t.tick();
      assert.equal(t.sent(), sentBefore + 4);
      assert.deepEqual(t.keysOn(slowOn[0] as number), ['slow'], 'the waiting slow statement started first, alone');
      assert.ok(running(t, 'fast'), 'the held fast statements started once it had');
      answerFast(t);
      assert.equal((await Promise.all(fast)).length, 3);
      await finishSlow(t);
      await Promise.all(slow);
    } finally {
      await t.close();
    }
  });

  it('holds fast work only a bounded while: holdForSlowMs per slow statement waiting, then it starts anyway', async () => {
    const t = sharedLeasesHarness({ size: 5, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10, holdForSlowMs: 10 });
    try {
      const { slow } = await fullLane(t, 2);
      t.advance(20);
      const fast = t.run('fast');
      await t.tick();
      assert.equal(running(t, 'fast'), false, 'held while two slow statements wait');
      t.advance(15);
      await t.tick();
      assert.equal(running(t, 'fast'), false, 'still held: two waiting allow 20 ms');
      t.advance(10);
      // The hold's timer fires on the real clock; the stepped clock says the 20 ms are up.
      await waitFor(() => running(t, 'fast'), 'the held fast statement started after its bounded hold');
      assert.equal(t.shared.status.waiting, 2, 'while the slow ones still wait for the lane');
      answerFast(t);
      await fast;
      await finishSlow(t);
      await Promise.all(slow);
    } finally {
      await t.close();
    }
  });

  it('holds fast work no longer than for ten slow statements waiting, however many wait (a flood of reports)', async () => {
    const t = sharedLeasesHarness({ size: 5, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10, holdForSlowMs: 10 });
    try {
      const { slow } = await fullLane(t, 30);
      t.advance(20);
      const fast = t.run('fast');
      await t.tick();
      t.advance(99);
      await t.tick();
      assert.equal(running(t, 'fast'), false, 'held while 30 slow statements wait, up to 100 ms');
      t.advance(2);
      await waitFor(() => running(t, 'fast'), 'the held fast statement started after 100 ms');
      answerFast(t);
      await fast;
      await finishSlow(t);
      assert.equal((await Promise.all(slow)).length, 34);
    } finally {
      await t.close();
    }
  });

  it('holds nothing while the waiting slow statement is within its allowance, or with holdForSlowMs 0', async () => {
    for (const holdForSlowMs of [10, 0]) {
      const t = sharedLeasesHarness({ size: 5, maxOverflow: 0 }, new MemoryConnector(), { maxInFlight: 10, holdForSlowMs });
      try {
        const { slow } = await fullLane(t, 1);
        // 10 ms of waiting is under 5 % of the slow shape's 300 ms (with holdForSlowMs 0, any wait is).
        t.advance(holdForSlowMs === 0 ? 100 : 10);
        const fast = t.run('fast');
        await t.tick();
        assert.ok(running(t, 'fast'), `fast work starts at once (holdForSlowMs ${holdForSlowMs})`);
        answerFast(t);
        await fast;
        await finishSlow(t);
        await Promise.all(slow);
      } finally {
        await t.close();
      }
    }
  });
});
