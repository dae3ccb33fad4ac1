import { redactStatement } from '../../src/dialect/postgres/postgres-statement-kind.js';
import type { Database } from '../../src/index.js';

/**
 * Run `text` until the multiplexer has learned it as a fast shape that shares a pipeline (its first
 * runs go alone while its cost is unknown), and has run it once as such. Tests that need statements
 * pipelined together call this first (`params` may vary per run). Fails after 200 runs: the model
 * never trusted a statement that should be fast.
 */
export async function learnShared(db: Database, text: string, params: unknown[] | ((run: number) => unknown[]) = []): Promise<void> {
  const multiplexer = db.multiplexer;
  if (multiplexer === undefined) throw new Error('learnShared: the pool does not multiplex');
  const shown = redactStatement(text);
  const shared = () => multiplexer.shapes(1000).some((shape) => shape.mode === 'shared' && shape.statement === shown);
  for (let run = 0; run < 200; run++) {
    const wasShared = shared();
    await db.query(text, typeof params === 'function' ? params(run) : params);
    // Shared, and still shared after a run as shared work (so shared work is about, as under load): a
    // stall of a loaded machine during that run may have put it on probation, then it learns again.
    if (wasShared && shared()) return;
  }
  throw new Error(`learnShared: "${text}" never became a shared shape`);
}
