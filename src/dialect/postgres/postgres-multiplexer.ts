import type { Client, QueryResult as PgQueryResult, QueryConfig } from 'pg';
import type { ResolvedConfig } from '../../config/options.js';
import type { ConnectionPool } from '../../pool/pool.js';
import type { QueryResult, StatementMultiplexer, StatementOptions } from '../dialect.js';
import { clientFlags } from './pg-internals.js';
import { isPostgresDisconnect, mapPostgresError } from './postgres-errors.js';
import { wrappingBegin } from './postgres-pooler.js';
import { toResult } from './postgres-result.js';
import { SharedLeases, type SharedUse } from './postgres-shared-leases.js';
import { needsSession, redactStatement, runsAlone } from './postgres-statement-kind.js';
import { isRefusedPreparedStatement, StatementNames } from './postgres-statement-names.js';

/** The parts of pg's Client that pipelining relies on beyond its typings (pg 8.23). */
interface PipelinedClient {
  pipeline: boolean;
  connection: {
    stream?: { cork?(): void; uncork?(): void; writableCorked?: number; destroy?(): void };
    /** Names the server confirmed (ParseComplete), and names whose Parse is still in the pipeline. */
    parsedStatements?: Record<string, string>;
    submittedNamedStatements?: Record<string, string>;
  };
  getTransactionStatus?(): string | null;
}

/** pg's Client keeps its Query class as a static (pg 8); a Query is what pg queues and sends. */
interface PgWithQuery {
  Query: new (text: string, values: unknown[], callback: (error: Error | null, result: PgQueryResult) => void) => { name?: string };
}

/** Queueing one connection may add before the multiplexer spreads to another (see SharedLeasesSettings). */
const SPREAD_AFTER_MS = 1;
/**
 * Share of the pool that slow statements (measured slow, or not yet measured) may hold while fast ones
 * are about: 9 of 10, since pipelined fast statements need few connections and every connection kept
 * from slow work caps how many slow statements a second the pool runs.
 */
const EXCLUSIVE_SHARE = 0.9;
/**
 * While slow statements wait for room in the full slow lane, fast ones arriving after them wait up to
 * this long per slow one waiting for them to start first (see SharedLeasesSettings.holdForSlowMs).
 */
const HOLD_FOR_SLOW_MS = 10;
/** A slow statement waits for the lane up to this share of its cost before fast ones yield to it (a 300 ms one, 15 ms). */
const SLOW_WAIT_SHARE = 0.05;
/** Nothing new is pipelined behind a statement that has been answering for longer than this. */
const STUCK_AFTER_MS = 10;
/** Statement texts whose cost the multiplexer remembers (each text is a shape). */
const SHAPE_CAPACITY = 1000;
/**
 * Rows in flight on one shared connection before fast statements with large answers wait their turn:
 * about a 64 KB socket read of 40-byte rows, so every connection's answers are read turn by turn.
 */
const ROWS_IN_FLIGHT = 1024;

/** Added to statementTimeoutMs before a silent pipeline counts as stuck: the server's own timeout should answer first. */
const STALL_GRACE_MS = 1000;

/**
 * pg's pipeline mode as {@link SharedUse}. pg (>= 8.23) writes each pipelined statement with its own
 * Sync, so one statement's SQL error fails that statement alone and the others run on. The flag is
 * switched on only while the multiplexer holds the connection: exclusive borrowers (cursors, COPY)
 * get the classic one-at-a-time client, which pipeline mode would refuse.
 */
const PIPELINE_USE: SharedUse<Client> = {
  enter(client) {
    (client as unknown as PipelinedClient).pipeline = true;
  },
  leave(client) {
    (client as unknown as PipelinedClient).pipeline = false;
  },
  usable(client) {
    const { queryable, ending } = clientFlags(client);
    return queryable !== false && ending !== true;
  },
  shareable(client) {
    const status = (client as unknown as PipelinedClient).getTransactionStatus?.();
    return status !== 'T' && status !== 'E';
  },
  batch(client) {
    // pg writes each protocol message separately; corking until the next tick sends a burst of
    // pipelined statements in one write (postgres.js does the same), which is most of the gain.
    const stream = (client as unknown as PipelinedClient).connection.stream;
    if (stream?.cork === undefined || stream.writableCorked !== 0) return;
    stream.cork();
    process.nextTick(() => stream.uncork?.());
  },
  abort(client) {
    (client as unknown as PipelinedClient).connection.stream?.destroy?.();
  },
  isFatal: isPostgresDisconnect,
};

/** Plain statements pipelined on shared pool connections (see docs/multiplexing.md). */
export function createPostgresMultiplexer(pool: ConnectionPool<Client>, config: ResolvedConfig): StatementMultiplexer {
  const leakHalf = config.leakThresholdMs > 0 ? config.leakThresholdMs / 2 : Number.POSITIVE_INFINITY;
  const shared = new SharedLeases<Client>(pool, PIPELINE_USE, {
    maxInFlight: config.multiplex.maxInFlight,
    stallTimeoutMs: config.statementTimeoutMs > 0 ? config.statementTimeoutMs + STALL_GRACE_MS : 0,
    spreadAfterMs: SPREAD_AFTER_MS,
    maxHoldMs: Math.min(5000, leakHalf, config.recycleMs > 0 ? config.recycleMs : Number.POSITIVE_INFINITY),
    exclusiveShare: EXCLUSIVE_SHARE,
    holdForSlowMs: HOLD_FOR_SLOW_MS,
    slowWaitShare: SLOW_WAIT_SHARE,
    stuckAfterMs: STUCK_AFTER_MS,
    sizeBudget: ROWS_IN_FLIGHT,
    alwaysExclusive: runsAlone,
    shapeCapacity: SHAPE_CAPACITY,
  });
  const { statementTimeoutMs, lockTimeoutMs } = config;
  const transactionPooler = config.serverPooler === 'transaction';
  // A transaction-mode pooler moves the client between server connections: nothing may be prepared.
  const names = transactionPooler ? undefined : new StatementNames();
  type Done = (error: unknown, value?: QueryResult<unknown>, size?: number) => void;
  type PgCallback = (error: Error | null, result: PgQueryResult) => void;
  /** One function for every statement's answer (no closure per call). */
  const finish = (done: Done, error: Error | null | undefined, result: PgQueryResult) => {
    if (error) done(mapPostgresError(error, statementTimeoutMs, lockTimeoutMs));
    else {
      const answer = toResult(result);
      // The answer's size for the scheduler: its rows, plus one for the answer itself.
      done(undefined, answer, answer.rows.length + 1);
    }
  };
  /**
   * An unnamed statement, in pg's callback form (which saves pg's own promise per statement), as text
   * and values unless a row mode is asked for: pg clones a config object on every call.
   */
  const send = (client: Client, text: string, values: unknown[] | undefined, rowMode: string | undefined, callback: PgCallback) => {
    if (rowMode === undefined) client.query(text, values as unknown[], callback);
    else client.query({ text, values, rowMode } as QueryConfig, callback);
  };
  const sendUnnamed = (client: Client, text: string, values: unknown[] | undefined, rowMode: string | undefined, done: Done) =>
    send(client, text, values, rowMode, (error, result) => finish(done, error, result));
  /**
   * A named statement; refused at bind time because the schema changed under its plan, or because
   * the session forgot it (DEALLOCATE, DISCARD ALL), it is sent once more, prepared afresh: the server
   * ran nothing, so no statement runs twice.
   */
  const sendNamed = (
    client: Client,
    name: string,
    text: string,
    values: unknown[],
    rowMode: string | undefined,
    done: Done,
    retry: boolean,
  ) => {
    const connection = (client as unknown as PipelinedClient).connection;
    if (connection.parsedStatements?.[name] === undefined && connection.submittedNamedStatements?.[name] !== undefined) {
      // Its Parse is still in the pipeline. Binding to it now would, should that Parse fail, fail
      // this call with "prepared statement does not exist" instead of its own error: send it unnamed.
      sendUnnamed(client, text, values, rowMode, done);
      return;
    }
    const answered = (error: Error | null, result: PgQueryResult) => {
      if (error && retry && isRefusedPreparedStatement(error)) {
        sendNamed(client, (names as StatementNames).renameAfter(text, name), text, values, rowMode, done, false);
        return;
      }
      finish(done, error, result);
    };
    if (rowMode !== undefined) {
      client.query({ name, text, values, rowMode } as QueryConfig, answered);
      return;
    }
    // pg copies a config object through its property descriptors on every call (3 % of a 100-row
    // select's client CPU); its own Query built from text and values, named afterwards, skips that.
    const query = new (client.constructor as unknown as PgWithQuery).Query(text, values, answered);
    query.name = name;
    client.query(query as unknown as QueryConfig);
  };

  return {
    accepts(text, options) {
      return options?.timeoutMs === undefined && !needsSession(text);
    },
    query<R>(text: string, params: readonly unknown[] | undefined, options: StatementOptions | undefined): Promise<QueryResult<R>> {
      const values = params as unknown[] | undefined;
      const rowMode = options?.rowMode === 'array' ? 'array' : undefined;
      const begin = transactionPooler ? wrappingBegin(text, statementTimeoutMs, lockTimeoutMs) : undefined;
      // Rows are typed by the caller; the driver's are unknown.
      return shared.run<QueryResult<unknown>>((client, done) => {
        if (begin === undefined) {
          const name = values !== undefined && values.length > 0 ? names?.nameFor(text) : undefined;
          if (name === undefined) sendUnnamed(client, text, values, rowMode, done);
          else sendNamed(client, name, text, values as unknown[], rowMode, done, true);
          return;
        }
        // Behind a transaction pooler the timeouts hold only inside a transaction (see wrappingBegin):
        // BEGIN, the statement and COMMIT go down the pipeline back to back, so no other caller's
        // statement lands inside, and the pooler keeps one server connection until the COMMIT. After a
        // failed statement the COMMIT rolls back. The call settles on the COMMIT: a write is
        // acknowledged only once committed, and a failing commit (a deferred constraint) fails it.
        let beginError: Error | null = null;
        let statementError: Error | null = null;
        let statementResult: PgQueryResult;
        client.query(begin, (error: Error | null) => {
          beginError = error;
        });
        send(client, text, values, rowMode, (error, result) => {
          statementError = error;
          statementResult = result;
        });
        client.query('COMMIT', (error: Error | null) => finish(done, statementError ?? error ?? beginError, statementResult));
      }, text) as Promise<QueryResult<R>>;
    },
    get status() {
      return shared.status;
    },
    shapes(limit = 10) {
      return shared.shapes(limit).map(({ key, ...view }) => ({ statement: redactStatement(key), ...view }));
    },
    close: (graceMs) => shared.close(graceMs),
  };
}
