import { RUNS_TO_LEARN } from '../../src/dialect/postgres/postgres-shape-costs.js';
import { SharedLeases, type SharedLeasesSettings, type SharedUse } from '../../src/dialect/postgres/postgres-shared-leases.js';
import { ConnectionPool, type CorePoolSettings, type PoolOptions } from '../../src/pool/pool.js';
import { type MemoryConnection, MemoryConnector, testSettings } from './memory-connector.js';

/** One unit in flight on a fake connection: its key, and how to answer it. */
interface InFlight {
  key: string | undefined;
  done: (error: unknown, value?: number, size?: number) => void;
}

/**
 * The shared-lease scheduler against the in-memory connector: no database is needed to check who
 * gets which connection. Work is answered by hand, in order per connection, as a pipeline is; the
 * scheduler's clock is stepped by hand (`advance`), so measured costs are exact.
 */
export function sharedLeasesHarness(
  poolSettings: Partial<CorePoolSettings> = {},
  connector = new MemoryConnector(),
  settings: Partial<SharedLeasesSettings> = {},
  poolOptions: PoolOptions = {},
) {
  const pool = new ConnectionPool<MemoryConnection>(connector, testSettings(poolSettings), poolOptions);
  pool.start();
  const pipelines = new Map<number, InFlight[]>();
  const aborted: number[] = [];
  let clock = 0;
  const use: SharedUse<MemoryConnection> = {
    enter: () => undefined,
    leave: () => undefined,
    usable: (c) => c.open,
    shareable: (c) => !c.inTransaction,
    abort: (c) => {
      aborted.push(c.id);
      c.open = false;
    },
    isFatal: (error) => (error as { code?: string }).code === 'ECONNRESET',
  };
  const shared = new SharedLeases(pool, use, {
    maxInFlight: 2,
    stallTimeoutMs: 0,
    maxHoldMs: 60_000,
    spreadAfterMs: 1,
    exclusiveShare: 0.8,
    holdForSlowMs: 10,
    slowWaitShare: 0.05,
    stuckAfterMs: 10,
    sizeBudget: 0,
    alwaysExclusive: () => false,
    shapeCapacity: 100,
    clock: () => clock,
    // The heartbeat measures real lateness; with the stepped clock every step would read as the process standing still.
    loopBeatMs: 0,
    ...settings,
  });
  let sent = 0;
  /** Run one unit; `key` names its shape (without one it shares as fast work). */
  const run = (key?: string) =>
    shared.run<number>((connection, done) => {
      sent++;
      const queue = pipelines.get(connection.id) ?? [];
      pipelines.set(connection.id, queue);
      queue.push({ key, done });
    }, key);
  /** Answer the oldest unit in flight on connection `id` (`size`: the answer's size, as rows). */
  const answer = (id: number, error?: unknown, value = id, size?: number) => pipelines.get(id)?.shift()?.done(error, value, size);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
  const advance = (ms: number) => {
    clock += ms;
  };
  /** Run `key` alone `times` times, each answered after `costMs` on the stepped clock (with `size` rows): its cost is then learned. */
  const learn = async (key: string, costMs: number, times = RUNS_TO_LEARN + 1, size?: number): Promise<void> => {
    for (let i = 0; i < times; i++) {
      const call = run(key);
      await tick();
      advance(costMs);
      const id = [...pipelines].find(([, queue]) => queue.length > 0)?.[0] as number;
      answer(id, undefined, id, size);
      await call;
    }
  };
  return {
    pool,
    shared,
    run,
    answer,
    tick,
    connector,
    aborted,
    sent: () => sent,
    /** Step the scheduler's clock by `ms`. */
    advance,
    learn,
    inFlightOn: (id: number) => pipelines.get(id)?.length ?? 0,
    /** The keys in flight on connection `id`, oldest first ('-' for a unit without one). */
    keysOn: (id: number) => (pipelines.get(id) ?? []).map((unit) => unit.key ?? '-'),
    /** Connections with something in flight. */
    busy: () => [...pipelines].filter(([, queue]) => queue.length > 0).map(([id]) => id),
    shape: (key: string) => shared.shapes(100).find((view) => view.key === key),
    async close() {
      await shared.close(0);
      await pool.close({ graceMs: 0 });
    },
  };
}
