import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConnectionLostError } from '../../src/errors.js';
import { MemoryConnector } from '../support/memory-connector.js';
import { sharedLeasesHarness } from '../support/shared-leases-harness.js';

// The scheduler against the in-memory connector: which work had been written when a shared
// connection failed decides each caller's outcome.
it('a shared connection failing on a refusal: its neighbours in flight get a lost answer of their own, waiting work goes elsewhere', async () => {
  const t = sharedLeasesHarness({ size: 2, maxOverflow: 0 }, new MemoryConnector(), { clock: undefined, loopBeatMs: undefined });
  const calls = Array.from({ length: 5 }, () => t.run());
  const settled = Promise.allSettled(calls);
  await t.tick();
  // The first unit on connection 1 fails with an error that says it was never sent (a driver
  // refusal) and ends the connection: the second unit there was written, so it must not inherit 'not-sent'.
  const refusal = Object.assign(new ConnectionLostError('not queryable', { outcome: 'not-sent' }), { code: 'ECONNRESET' });
  assert.equal(t.inFlightOn(1), 2);
  t.answer(1, refusal);
  await t.tick();
  for (let round = 0; round < 3; round++) {
    for (const id of [2, 3]) while (t.inFlightOn(id) > 0) t.answer(id);
    await t.tick();
  }
  const results = await settled;
  const reasons = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
  assert.equal(reasons.length, 2, 'the two units written on connection 1 failed');
  assert.equal(reasons[0], refusal, "the refused unit gets its own error, 'not-sent'");
  assert.equal(reasons[1].outcome, 'unknown', 'the unit written behind it: its answer was lost');
  assert.equal(reasons[1].code, 'CONNECTION_LOST');
  assert.equal(reasons[1].cause, refusal);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'work not yet written went elsewhere');
  assert.equal(t.sent(), 5, 'no unit was sent twice');
  await t.shared.close(0);
  await t.pool.close({ graceMs: 0 });
});
