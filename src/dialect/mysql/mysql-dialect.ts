import { performance } from 'node:perf_hooks';
import type { ResolvedConfig } from '../../config/options.js';
import { passwordFromUrl } from '../../config/url.js';
import { ConnectionLostError, StatementTimeoutError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import { BACKSTOP_MARGIN_MS, callbackDeadline } from '../../resilience/deadline-sweeper.js';
import { WRITER_MOVED_DEFAULTS, WriterMovedDetector } from '../../resilience/writer-moved.js';
import {
  type Dialect,
  type DialectStatementOptions,
  ISOLATION_SQL,
  type QueryResult,
  resolvePassword,
  type TransactionOptions,
} from '../dialect.js';
import { TlsMaterialLoader } from '../tls-material.js';
import { mysqlBatch } from './mysql-batch.js';
import { classifyMysqlFailure, isMysqlDisconnect, isMysqlReadOnly, mapMysqlError, mysqlTransactionConflict } from './mysql-errors.js';
import { checkIpIdentity, checkNoSslConflict, mysqlSslOption, mysqlTlsAttempts, mysqlTlsError, worthPlainAttempt } from './mysql-tls.js';

/**
 * The part of a mysql2 (callback API) connection this dialect uses. Declared here so the rest of
 * Spillway never imports mysql2's types; the callback API is used because the promise wrapper
 * adds an allocation and a tick per query on the hot path.
 */
type MysqlCallback = (error: Error | null, rows: unknown, fields: unknown) => void;
type MysqlStatement = { sql: string; values?: unknown; rowsAsArray?: boolean };

export interface MysqlConnection {
  threadId: number | null;
  /** Set by mysql2 from the handshake's server version. */
  _isMariaDB?: boolean;
  stream?: { destroy(): void };
  query(options: MysqlStatement | string, callback: MysqlCallback): unknown;
  query(sql: string, values: readonly unknown[], callback: MysqlCallback): unknown;
  /** Prepares `sql` on the server once (mysql2 keeps it per connection), then executes it with binary parameters. */
  execute(options: MysqlStatement | string, callback: MysqlCallback): unknown;
  execute(sql: string, values: readonly unknown[], callback: MysqlCallback): unknown;
  /** Closes the server-side statement prepared for `sql` and forgets it. */
  unprepare(sql: string): unknown;
  ping(callback: (error: Error | null) => void): void;
  end(callback?: (error?: Error | null) => void): void;
  destroy(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

type MysqlModule = { createConnection(options: Record<string, unknown>): MysqlConnection };
let mysqlModule: Promise<MysqlModule> | undefined;
/** mysql2 is loaded only when a mysql:// or mariadb:// URL asks for it. */
function loadMysql(): Promise<MysqlModule> {
  mysqlModule ??= import('mysql2').then((m) => ((m as unknown as { default?: MysqlModule }).default ?? m) as MysqlModule);
  return mysqlModule;
}

/** Per-connection facts the pool's connector needs and mysql2 does not expose. */
interface ConnectionState {
  mariadb: boolean;
  /** A transaction may be open: reset rolls it back before the connection is reused. */
  inTransaction: boolean;
  /** The client-side backstop fired: the connection is being thrown away. */
  abandoned: boolean;
  /** Texts this dialect prepared on the connection, least recently used first. */
  prepared: Map<string, true>;
  /**
   * The server refused a write as read-only (a failover made it a reader): the connection is not
   * reused; the pool discards it at its return (reset refuses it).
   */
  readOnly: Error | undefined;
  /** Tells the pool to discard this connection (idle now, lent at its return). */
  onBroken: (error: unknown) => void;
}

/**
 * Prepared statements this dialect keeps per connection. mysql2 would keep 16,000, but the server
 * counts every session's statements against one global max_prepared_stmt_count (16,382 by
 * default), so a pool of batch shapes could starve other clients: keep a few, close the rest.
 */
export const MYSQL_PREPARED_PER_CONNECTION = 8;

/**
 * How long after a statement's own timeout the client gives up on the server: the same margin as
 * PostgreSQL's, on the same process-wide sweep (resilience/deadline-sweeper.ts). The server's timeout
 * normally answers first; this only fires when the server (or the network) stopped answering. With
 * the 100 ms sweep, a call ends at most 600 ms after its timeout.
 */
export const MYSQL_BACKSTOP_GRACE_MS = BACKSTOP_MARGIN_MS;

/** MySQL's OK packet flag SERVER_STATUS_IN_TRANS. */
const SERVER_STATUS_IN_TRANS = 1;
const BEGINS_TRANSACTION = /^\s*(?:BEGIN|START\s+TRANSACTION|XA\s+START)\b/i;
const ENDS_TRANSACTION = /^\s*(?:COMMIT|ROLLBACK(?!\s+TO\b))\b/i;
/** innodb_lock_wait_timeout's largest value: what "lockTimeoutMs = 0 (off)" becomes. */
const MAX_LOCK_WAIT_SECONDS = 1_073_741_824;
/** lock_wait_timeout's (metadata locks) largest value. */
const MAX_METADATA_LOCK_WAIT_SECONDS = 31_536_000;

/** Session settings applied once per connection, in one round trip. */
export function mysqlSessionSettings(mariadb: boolean, statementTimeoutMs: number, lockTimeoutMs: number): string {
  // InnoDB counts lock waits in whole seconds (at least 1): round up so a lock timeout never fires early.
  const lockSeconds = lockTimeoutMs > 0 ? Math.max(1, Math.ceil(lockTimeoutMs / 1000)) : MAX_LOCK_WAIT_SECONDS;
  const statement = mariadb
    ? `max_statement_time = ${statementTimeoutMs / 1000}`
    : `max_execution_time = ${Math.round(statementTimeoutMs)}`;
  return `SET SESSION ${statement}, innodb_lock_wait_timeout = ${lockSeconds}, lock_wait_timeout = ${Math.min(lockSeconds, MAX_METADATA_LOCK_WAIT_SECONDS)}`;
}

/**
 * What the drop-in `spillway/mysql` pool passes through to each new connection, as mysql2's pool
 * does: the user's mysql2 connection options, merged last. Kept out of the resolved config so that
 * secrets such as `ssl.key` never reach describeConfig or an endpoint.
 */
export interface MysqlConnectionOverrides {
  connectionOptions?: Record<string, unknown>;
  /**
   * Whether each new connection gets Spillway's session time limits (default true). The drop-in
   * leaves the server's defaults alone, as mysql2's pool does, until the app gives a time limit.
   */
  sessionSettings?: boolean;
}

/** The MySQL/MariaDB dialect on `mysql2`. */
export function createMysqlDialect(config: ResolvedConfig, overrides: MysqlConnectionOverrides = {}): Dialect<MysqlConnection> {
  const target = config.target;
  const urlPassword = passwordFromUrl(config.url);
  const label = `mysql://${target.user ?? ''}${target.user ? '@' : ''}${target.host}:${target.port}/${target.database ?? ''}`;
  const states = new WeakMap<MysqlConnection, ConnectionState>();
  /** The connections open now: a burst of read-only errors (the writer moved) condemns them all. */
  const live = new Set<MysqlConnection>();
  const writerMoved = new WriterMovedDetector({ ...WRITER_MOVED_DEFAULTS, now: () => performance.now() });

  /**
   * A statement found the server read-only: this connection points at a reader now, and is not
   * lent again (mysql2's pool discards it too). A burst of these means the writer moved: every
   * connection is given up (idle ones at once, lent ones at their return), so all reconnect through
   * DNS to the new writer instead of each failing once first.
   */
  function readOnlyFailure(connection: MysqlConnection, error: Error): void {
    const state = states.get(connection);
    if (state !== undefined) state.readOnly = error;
    if (!writerMoved.record()) return;
    for (const other of [...live]) {
      const otherState = states.get(other);
      if (otherState === undefined || otherState.readOnly !== undefined) continue;
      otherState.readOnly = error;
      otherState.onBroken(new ConnectionLostError('the server turned read-only on other connections: the writer moved', error));
    }
  }

  // TLS as resolved from ssl-mode and the tls option (MySQL's client rules), unless mysql2's own `ssl`
  // comes in dialectOptions or through the drop-in spillway/mysql (mysql2's semantics then).
  checkNoSslConflict(config.tls, config.dialectOptions);
  const passThroughSsl = overrides.connectionOptions !== undefined && 'ssl' in overrides.connectionOptions;
  const tlsMode = passThroughSsl ? 'disable' : config.tls.mode;
  const tlsLoader = tlsMode === 'disable' ? undefined : new TlsMaterialLoader(config.tls);
  const where = `${target.host}:${target.port}`;

  /** Open a connection, with PREFERRED's plain second attempt; TLS failures as CONFIG_INVALID. */
  async function open(timeoutMs: number, signal?: AbortSignal): Promise<MysqlConnection> {
    const attempts = mysqlTlsAttempts(tlsMode);
    const startedAt = performance.now();
    for (let i = 0; ; i++) {
      const useTls = attempts[i] === true;
      const ssl = useTls ? await mysqlSslOption(tlsLoader as TlsMaterialLoader, target.host) : undefined;
      try {
        return await openOnce(Math.max(1, Math.round(timeoutMs - (performance.now() - startedAt))), ssl, signal);
      } catch (error) {
        if (i + 1 < attempts.length && signal?.aborted !== true && worthPlainAttempt(tlsMode, error)) continue;
        throw (useTls ? mysqlTlsError(config.tls, where, error) : undefined) ?? error;
      }
    }
  }

  async function openOnce(timeoutMs: number, ssl: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<MysqlConnection> {
    const mysql = await loadMysql();
    const connection = mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      password: await resolvePassword(config, urlPassword),
      connectTimeout: timeoutMs,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      ...(ssl === undefined ? {} : { ssl }),
      // mysql2 options the user asked for (ssl, timezone, typeCast, ...) win over ours.
      ...config.dialectOptions,
      ...overrides.connectionOptions,
    });
    if (ssl !== undefined) checkIpIdentity(connection as never, config.tls, target.host);
    if (signal !== undefined) cutOnAbort(connection, signal);
    await new Promise<void>((resolve, reject) => {
      const abandoned = (): void => reject(new ConnectionLostError('MySQL connect attempt abandoned', { outcome: 'not-sent' }));
      connection.once('connect', () => {
        connection.removeAllListeners('error');
        signal?.removeEventListener('abort', abandoned);
        resolve();
      });
      connection.once('error', (error: Error) => {
        connection.removeAllListeners('connect');
        signal?.removeEventListener('abort', abandoned);
        // A failed attempt (PREFERRED may make another) keeps no socket, and a late error crashes nothing.
        connection.on('error', () => undefined);
        destroy(connection);
        reject(error);
      });
      // cutOnAbort destroyed the socket; this only stops waiting for it.
      if (signal?.aborted) abandoned();
      else signal?.addEventListener('abort', abandoned, { once: true });
    });
    return connection;
  }

  /**
   * The pool aborts a connect attempt's signal only when it gave up on it (timed out, replaced by a
   * fresh attempt, closing), before the attempt succeeded: then cut the socket at once, so it never
   * becomes a server session nobody counts. The pool never aborts after a success, so the listener
   * may stay until the signal is collected.
   */
  function cutOnAbort(connection: MysqlConnection, signal: AbortSignal): void {
    const cut = (): void => {
      connection.removeAllListeners('end');
      connection.removeAllListeners('error');
      connection.on('error', () => undefined);
      destroy(connection);
    };
    if (signal.aborted) cut();
    else signal.addEventListener('abort', cut, { once: true });
  }

  function destroy(connection: MysqlConnection): void {
    try {
      connection.destroy();
      connection.stream?.destroy();
    } catch {
      // Already gone.
    }
  }

  /**
   * End an abandoned connection's session from a fresh one (KILL CONNECTION also ends its running
   * statement), so the server neither works for nobody nor keeps the session until wait_timeout when
   * the link died without a close. Best effort: when the server is unreachable this fails quietly.
   */
  function killSession(threadId: number | null): void {
    if (threadId === null) return;
    open(Math.min(config.connectTimeoutMs, 2000)).then(
      (killer) => {
        killer.on('error', () => undefined);
        killer.query({ sql: `KILL CONNECTION ${Number(threadId)}` }, () => killer.end(() => destroy(killer)));
      },
      () => undefined,
    );
  }

  /** Keep `text` prepared on `connection`, closing the least recently used beyond the bound. */
  function keepPrepared(connection: MysqlConnection, text: string): void {
    const prepared = states.get(connection)?.prepared;
    if (prepared === undefined) return;
    prepared.delete(text);
    prepared.set(text, true);
    if (prepared.size <= MYSQL_PREPARED_PER_CONNECTION) return;
    const oldest = prepared.keys().next().value as string;
    prepared.delete(oldest);
    // Queued behind the statements in flight; COM_STMT_CLOSE has no answer to wait for.
    connection.unprepare(oldest);
  }

  /**
   * Run one statement with the client-side backstop; resolves with the driver's rows and fields.
   * `prepared` sends it as a server-side prepared statement (binary parameters, never part of the
   * SQL text); otherwise mysql2 escapes the values into the text.
   */
  function run(
    connection: MysqlConnection,
    text: string,
    values: readonly unknown[] | undefined,
    rowsAsArray: boolean,
    timeoutMs: number,
    prepared = false,
  ): Promise<QueryResult<never>> {
    return new Promise((resolve, reject) => {
      // The callback API is kept (no promise per statement), with the shared sweeper's deadline.
      const settle = callbackDeadline(timeoutMs > 0 ? timeoutMs + MYSQL_BACKSTOP_GRACE_MS : 0, () => {
        const state = states.get(connection);
        if (state !== undefined) state.abandoned = true;
        const threadId = connection.threadId;
        destroy(connection);
        killSession(threadId);
        // The connection is mid-statement with no answer: it must never be reused.
        reject(
          new StatementTimeoutError(timeoutMs, {
            cause: new Error('the server did not answer; the client-side backstop fired'),
            connectionUnusable: true,
            outcome: 'unknown',
          }),
        );
      });
      const done = (error: Error | null, rows: unknown, fields: unknown): void => {
        if (!settle()) return;
        if (error !== null) {
          if (isMysqlReadOnly(error)) readOnlyFailure(connection, error);
          reject(mapMysqlError(error, timeoutMs, config.lockTimeoutMs));
          return;
        }
        resolve(toResult(connection, rows, fields));
      };
      if (prepared) keepPrepared(connection, text);
      const hasValues = values !== undefined && values.length > 0;
      if (rowsAsArray) {
        const statement: MysqlStatement = { sql: text, rowsAsArray: true };
        if (hasValues) statement.values = values;
        if (prepared) connection.execute(statement, done);
        else connection.query(statement, done);
      } else if (hasValues) {
        // mysql2 spreads an options object into a new one on every call (a measurable share of a
        // SELECT 1's client CPU); the (sql, values, callback) form builds its command directly.
        if (prepared) connection.execute(text, values, done);
        else connection.query(text, values, done);
      } else if (prepared) connection.execute(text, done);
      else connection.query(text, done);
    });
  }

  function toResult(connection: MysqlConnection, rows: unknown, fields: unknown): QueryResult<never> {
    if (Array.isArray(rows)) {
      return {
        rows: rows as never[],
        rowCount: rows.length,
        fields: Array.isArray(fields) ? (fields as { name: string }[]) : undefined,
        raw: rows,
      };
    }
    // An OK packet (ResultSetHeader): writes, DDL, SET. Its status tells whether a transaction is open.
    const header = rows as { affectedRows?: number; insertId?: number; serverStatus?: number };
    const state = states.get(connection);
    if (state !== undefined && typeof header.serverStatus === 'number') {
      state.inTransaction = (header.serverStatus & SERVER_STATUS_IN_TRANS) !== 0;
    }
    return { rows: [], rowCount: header.affectedRows ?? 0, insertId: header.insertId, raw: rows };
  }

  const connector: Connector<MysqlConnection> = {
    target: label,
    async connect(context: ConnectContext): Promise<MysqlConnection> {
      let connection: MysqlConnection;
      try {
        connection = await open(context.timeoutMs, context.signal);
      } catch (error) {
        throw mapMysqlError(error, config.statementTimeoutMs, config.lockTimeoutMs, false);
      }
      const mariadb = connection._isMariaDB === true;
      states.set(connection, {
        mariadb,
        inTransaction: false,
        abandoned: false,
        prepared: new Map(),
        readOnly: undefined,
        onBroken: context.onBroken,
      });
      // An idle connection's error must never crash the process: the pool discards it instead.
      connection.on('error', context.onBroken);
      connection.on('end', () => context.onBroken(new ConnectionLostError('MySQL connection ended')));
      try {
        if (overrides.sessionSettings !== false) {
          await run(
            connection,
            mysqlSessionSettings(mariadb, config.statementTimeoutMs, config.lockTimeoutMs),
            undefined,
            false,
            context.timeoutMs,
          );
        }
      } catch (error) {
        connection.removeAllListeners('end');
        destroy(connection);
        throw error;
      }
      live.add(connection);
      return connection;
    },
    ping(connection: MysqlConnection): Promise<void> {
      // Bounded like a connect: a pre-ping must not hang on a server that stopped answering.
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          destroy(connection);
          const message = `MySQL ping got no answer within ${config.connectTimeoutMs}ms`;
          reject(new ConnectionLostError(message, { connectionUnusable: true, outcome: 'not-sent' }));
        }, config.connectTimeoutMs);
        timer.unref();
        connection.ping((error) => {
          clearTimeout(timer);
          if (error) reject(mapMysqlError(error, config.statementTimeoutMs, config.lockTimeoutMs));
          else resolve();
        });
      });
    },
    needsReset(connection: MysqlConnection): boolean {
      const state = states.get(connection);
      return state !== undefined && (state.inTransaction || state.readOnly !== undefined);
    },
    async reset(connection: MysqlConnection): Promise<void> {
      // Refused, so the pool discards it: a connection to a server that turned read-only is not reused.
      const readOnly = states.get(connection)?.readOnly;
      if (readOnly !== undefined) throw readOnly;
      await run(connection, 'ROLLBACK', undefined, false, config.connectTimeoutMs);
      const state = states.get(connection);
      if (state !== undefined) state.inTransaction = false;
    },
    close(connection: MysqlConnection): Promise<void> {
      live.delete(connection);
      connection.removeAllListeners('end');
      connection.removeAllListeners('error');
      connection.on('error', () => undefined);
      if (states.get(connection)?.abandoned) return Promise.resolve();
      return new Promise((resolve) => {
        // A polite COM_QUIT, but never wait on a server that stopped answering.
        const timer = setTimeout(() => {
          destroy(connection);
          resolve();
        }, 1000);
        timer.unref();
        connection.end(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    isDisconnect: isMysqlDisconnect,
  };

  /**
   * Not `async`: the common case (the session's timeout) hands back run()'s own promise, one promise
   * and one await fewer per statement than an async frame around it.
   */
  function query<R>(
    connection: MysqlConnection,
    text: string,
    params: readonly unknown[] | undefined,
    options: DialectStatementOptions | undefined,
  ): Promise<QueryResult<R>> {
    const state = states.get(connection);
    if (state !== undefined) {
      if (BEGINS_TRANSACTION.test(text)) state.inTransaction = true;
      else if (ENDS_TRANSACTION.test(text)) state.inTransaction = false;
    }
    const rowsAsArray = options?.rowMode === 'array';
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs === undefined) {
      return run(connection, text, params, rowsAsArray, config.statementTimeoutMs, options?.prepared === true) as Promise<QueryResult<R>>;
    }
    return queryWithin<R>(connection, state, text, params, rowsAsArray, timeoutMs);
  }

  /** A statement with its own timeout: scoped to it on MariaDB, set and restored around it on MySQL. */
  async function queryWithin<R>(
    connection: MysqlConnection,
    state: ConnectionState | undefined,
    text: string,
    params: readonly unknown[] | undefined,
    rowsAsArray: boolean,
    timeoutMs: number,
  ): Promise<QueryResult<R>> {
    const ms = Math.max(0, Math.round(timeoutMs));
    if (state?.mariadb) {
      // MariaDB scopes a setting to one statement: one round trip, nothing to restore.
      return (await run(
        connection,
        `SET STATEMENT max_statement_time = ${ms / 1000} FOR ${text}`,
        params,
        rowsAsArray,
        ms,
      )) as QueryResult<R>;
    }
    await run(connection, `SET SESSION max_execution_time = ${ms}`, undefined, false, ms);
    try {
      return (await run(connection, text, params, rowsAsArray, ms)) as QueryResult<R>;
    } finally {
      if (!state?.abandoned) {
        await run(connection, `SET SESSION max_execution_time = ${Math.round(config.statementTimeoutMs)}`, undefined, false, ms).catch(
          () => undefined,
        );
      }
    }
  }

  async function control(connection: MysqlConnection, text: string, inTransaction: boolean): Promise<void> {
    await query(connection, text, undefined, undefined);
    const state = states.get(connection);
    if (state !== undefined) state.inTransaction = inTransaction;
  }

  return {
    name: 'mysql',
    connector,
    query,
    classifyFailure: classifyMysqlFailure,
    transactionConflict: mysqlTransactionConflict,
    placeholder: () => '?',
    quoteIdentifier: (name) => `\`${name.replace(/`/g, '``')}\``,
    async begin(connection, options?: TransactionOptions) {
      // SET TRANSACTION applies to the next transaction only, so nothing leaks to the next borrower.
      if (options?.isolation !== undefined) {
        await query(connection, `SET TRANSACTION ISOLATION LEVEL ${ISOLATION_SQL[options.isolation]}`, undefined, undefined);
      }
      await control(connection, options?.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION', true);
    },
    commit: (connection) => control(connection, 'COMMIT', false),
    rollback: (connection) => control(connection, 'ROLLBACK', false),
    batch: mysqlBatch,
    server: { address: target.host, port: target.port, database: target.database },
  };
}
