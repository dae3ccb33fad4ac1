import type { StatementFailureKind } from '../dialect/dialect.js';

/**
 * The query layer's one observation hook. Instrumentation (src/observe) implements it; with none set
 * the query path checks a single undefined field and does nothing else (HikariCP's IMetricsTracker idea).
 * `start` returns a token handed back to `end`, so an implementation can carry a start time or a span
 * without the query layer knowing which.
 */
export interface QueryObserver {
  /**
   * A checkout is about to start (the pool's own events report its wait time). Return undefined when
   * there is nothing to end (no span): `checkoutEnd` is then not called. `pool` is the name of the
   * pool checked out from (a database may own several: SQLite's writer is `<name>:writer`).
   */
  checkoutStart(pool?: string): unknown;
  checkoutEnd(token: unknown, error: unknown): void;
  /** A statement is about to be sent. `text` is the SQL with placeholders; parameter values are never passed. */
  queryStart(text: string): unknown;
  /**
   * The statement settled: `error` undefined on success; on failure `failure` is the dialect's
   * judgement of it (an application's constraint violation or data exception, or a real failure).
   */
  queryEnd(token: unknown, error: unknown, failure?: StatementFailureKind): void;
}
