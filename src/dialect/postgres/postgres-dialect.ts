import { performance } from 'node:perf_hooks';
import type { Client, ClientConfig, QueryResult as PgQueryResult, QueryConfig } from 'pg';
import type { ResolvedConfig } from '../../config/options.js';
import { passwordFromUrl } from '../../config/url.js';
import { ConnectionLostError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import type { ConnectionPool } from '../../pool/pool.js';
import { BACKSTOP_MARGIN_MS, callbackDeadline } from '../../resilience/deadline-sweeper.js';
import {
  type Dialect,
  type DialectStatementOptions,
  ISOLATION_SQL,
  type QueryResult,
  resolvePassword,
  type TransactionOptions,
} from '../dialect.js';
import { TlsMaterialLoader } from '../tls-material.js';
import { postgresBatch } from './postgres-batch.js';
import { copyFrom } from './postgres-copy.js';
import { abandonStatement, backstopError, closeClient, destroyClient, pingWithin, statementBackstop } from './postgres-deadline.js';
import { classifyPostgresFailure, isPostgresDisconnect, mapPostgresError, postgresTransactionConflict } from './postgres-errors.js';
import { createPostgresMultiplexer } from './postgres-multiplexer.js';
import { localTimeouts, wrappingBegin } from './postgres-pooler.js';
import { toResult } from './postgres-result.js';
import { useFastRowParser } from './postgres-row-parser.js';
import { pgSslOptions, postgresTlsError, tlsAttempts, worthOtherAttempt } from './postgres-tls.js';

type PgModule = typeof import('pg');
let pgModule: Promise<PgModule> | undefined;
/** pg is loaded only when a postgres:// URL asks for it. */
function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule);
  return pgModule;
}

/** Startup `options` setting session timeouts without an extra round trip (not used behind a transaction pooler). */
function startupOptions(config: ResolvedConfig): string {
  return `-c statement_timeout=${config.statementTimeoutMs} -c lock_timeout=${config.lockTimeoutMs}`;
}

/** A server that does not answer the goodbye within this is cut off (a blackholed network). */
const CLOSE_TIMEOUT_MS = 1000;
function inTransaction(client: Client): boolean {
  const status = (client as Client & { getTransactionStatus?(): string | null }).getTransactionStatus?.();
  return status === 'T' || status === 'E';
}

/**
 * What the drop-in `spillway/pg` Pool passes through to each new client, as pg.Pool does: the user's
 * pg.Client settings (merged last, so they win) and their Client class. Kept out of the resolved
 * config so that secrets such as `ssl.key` never reach describeConfig or an endpoint.
 */
export interface PostgresClientOverrides {
  Client?: new (config: ClientConfig) => Client;
  clientConfig?: ClientConfig;
}

/** The PostgreSQL dialect on `pg` (node-postgres). */
export function createPostgresDialect(config: ResolvedConfig, overrides: PostgresClientOverrides = {}): Dialect<Client> {
  const target = config.target;
  const urlPassword = passwordFromUrl(config.url);
  const label = `postgres://${target.user ?? ''}${target.user ? '@' : ''}${target.host}:${target.port}/${target.database ?? ''}`;
  // The drop-in spillway/pg passes pg's own `ssl` (pg's semantics, as pg.Pool has them); otherwise
  // libpq's sslmode as resolved in config/tls-config.ts, with allow/prefer's second attempt.
  const passThroughSsl = overrides.clientConfig !== undefined && 'ssl' in overrides.clientConfig;
  const tlsMode = passThroughSsl ? 'disable' : config.tls.mode;
  const tlsLoader = tlsMode === 'disable' ? undefined : new TlsMaterialLoader(config.tls);
  const where = `${target.host}:${target.port}`;
  const transactionPooler = config.serverPooler === 'transaction';

  /** One connect attempt; rejects with the driver's own error, the socket cut. */
  async function connectOnce(
    ClientClass: new (config: ClientConfig) => Client,
    password: string | undefined,
    ssl: ClientConfig['ssl'],
    timeoutMs: number,
    context: ConnectContext,
  ): Promise<Client> {
    const client = new ClientClass({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      password,
      application_name: `spillway:${config.name}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: timeoutMs,
      ssl,
      ...(transactionPooler ? {} : { options: startupOptions(config) }),
      ...overrides.clientConfig,
    });
    useFastRowParser(client);
    // An idle client's error must never crash the process: the pool discards it instead.
    client.on('error', context.onBroken);
    client.on('end', () => context.onBroken(new ConnectionLostError('PostgreSQL connection ended')));
    // The pool gave up on this attempt (timed out, replaced, closing): cut the socket now, quietly,
    // so it never becomes a server connection nobody counts.
    const abandon = (): void => {
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      destroyClient(client);
    };
    if (context.signal.aborted) throw new ConnectionLostError('PostgreSQL connect attempt abandoned', { outcome: 'not-sent' });
    context.signal.addEventListener('abort', abandon, { once: true });
    try {
      await client.connect();
    } catch (error) {
      // A failed attempt reports nothing more to the pool (a late socket error must not read as a broken connection).
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    } finally {
      context.signal.removeEventListener('abort', abandon);
    }
    return client;
  }

  const connector: Connector<Client> = {
    target: label,
    async connect(context: ConnectContext): Promise<Client> {
      const ClientClass = overrides.Client ?? (await loadPg()).Client;
      const password = await resolvePassword(config, urlPassword);
      const attempts = tlsAttempts(tlsMode);
      const startedAt = performance.now();
      for (let i = 0; ; i++) {
        const useTls = attempts[i] === true;
        const ssl = useTls ? await pgSslOptions(tlsLoader as TlsMaterialLoader) : false;
        const timeoutMs = Math.max(1, Math.round(context.timeoutMs - (performance.now() - startedAt)));
        try {
          return await connectOnce(ClientClass, password, ssl, timeoutMs, context);
        } catch (error) {
          if (i + 1 < attempts.length && !context.signal.aborted && worthOtherAttempt(tlsMode, error)) continue;
          throw (
            (useTls ? postgresTlsError(config.tls, where, error) : undefined) ??
            mapPostgresError(error, config.statementTimeoutMs, config.lockTimeoutMs, false)
          );
        }
      }
    },
    async ping(client: Client): Promise<void> {
      await pingWithin(client, client.query(';'), config.connectTimeoutMs);
    },
    // 'I' idle, 'T' in a transaction, 'E' in a failed transaction (pg >= 8.20 tracks ReadyForQuery status).
    needsReset: inTransaction,
    async reset(client: Client): Promise<void> {
      await statementBackstop(client, client.query('ROLLBACK'), config.statementTimeoutMs || config.connectTimeoutMs, target);
    },
    async close(client: Client): Promise<void> {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await closeClient(client, CLOSE_TIMEOUT_MS, target);
    },
    isDisconnect: isPostgresDisconnect,
  };

  /** Every statement gets the client-side backstop (see postgres-deadline.ts) unless its timeout is 0. */
  function query<R>(
    client: Client,
    text: string,
    params: readonly unknown[] | undefined,
    options: DialectStatementOptions | undefined,
  ): Promise<QueryResult<R>> {
    if (options === undefined && !transactionPooler) return plainQuery<R>(client, text, params);
    const timeoutMs = options?.timeoutMs ?? config.statementTimeoutMs;
    const work = runQuery<R>(client, text, params, options);
    return timeoutMs > 0 ? statementBackstop(client, work, timeoutMs, target) : work;
  }

  /**
   * The common case (the session's timeouts, text and values) in pg's callback form with the backstop
   * inline: one promise per statement instead of three (pg's, runQuery's, the deadline race's): the
   * layered form cost measurably more client CPU per statement than pg.Pool (bench/RESULTS.md). Same rules: the caller is rejected at the deadline
   * whatever pg does later, and pg's late answer is dropped.
   */
  function plainQuery<R>(client: Client, text: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
    const timeoutMs = config.statementTimeoutMs;
    return new Promise<QueryResult<R>>((resolve, reject) => {
      const settle = callbackDeadline(timeoutMs > 0 ? timeoutMs + BACKSTOP_MARGIN_MS : 0, () => {
        reject(backstopError(timeoutMs));
        abandonStatement(client, target);
      });
      (
        client.query as (
          text: string,
          values: unknown[] | undefined,
          callback: (error: Error | null, result: PgQueryResult) => void,
        ) => void
      )(text, params as unknown[] | undefined, (error, result) => {
        if (!settle()) return;
        if (error) reject(mapPostgresError(error, timeoutMs, config.lockTimeoutMs));
        else resolve(toResult<R>(result));
      });
    });
  }

  async function runQuery<R>(
    client: Client,
    text: string,
    params: readonly unknown[] | undefined,
    options: DialectStatementOptions | undefined,
  ): Promise<QueryResult<R>> {
    const timeoutMs = options?.timeoutMs;
    if (options?.copyRows !== undefined) {
      try {
        const rowCount = await copyFrom(client, text, options.copyRows.values, options.copyRows.width);
        return { rows: [], rowCount };
      } catch (error) {
        throw mapPostgresError(error, timeoutMs ?? config.statementTimeoutMs, config.lockTimeoutMs);
      }
    }
    if (timeoutMs === undefined && options?.rowMode === undefined && !transactionPooler) {
      // The common case as text and values: pg clones a config object on every call.
      try {
        return toResult<R>(await client.query(text, params as unknown[] | undefined));
      } catch (error) {
        throw mapPostgresError(error, config.statementTimeoutMs, config.lockTimeoutMs);
      }
    }
    const queryConfig: QueryConfig = { text, values: params as unknown[] | undefined };
    if (options?.rowMode === 'array') (queryConfig as QueryConfig & { rowMode: string }).rowMode = 'array';
    try {
      if (transactionPooler) return await pooledQuery<R>(client, queryConfig, timeoutMs);
      if (timeoutMs === undefined) return toResult<R>(await client.query(queryConfig));
      // A per-call timeout overrides the session's for this statement only; SET inside a transaction
      // is undone by its rollback, so restoring can fail harmlessly there.
      await client.query(`SET statement_timeout = ${Math.max(0, Math.round(timeoutMs))}`);
      try {
        return toResult<R>(await client.query(queryConfig));
      } finally {
        await client.query(`SET statement_timeout = ${config.statementTimeoutMs}`).catch(() => undefined);
      }
    } catch (error) {
      throw mapPostgresError(error, timeoutMs ?? config.statementTimeoutMs, config.lockTimeoutMs);
    }
  }

  /**
   * Behind a transaction pooler the server connection may change between transactions, so no
   * session setting can be relied on: timeouts are set with SET LOCAL inside a transaction, and a
   * statement outside one is wrapped in its own short transaction so its timeout still holds.
   * pg's parameterised queries use the unnamed prepared statement, which PgBouncer supports.
   */
  async function pooledQuery<R>(client: Client, queryConfig: QueryConfig, timeoutMs: number | undefined): Promise<QueryResult<R>> {
    if (inTransaction(client)) {
      if (timeoutMs === undefined) return toResult<R>(await client.query(queryConfig));
      await client.query(`SET LOCAL statement_timeout = ${Math.max(0, Math.round(timeoutMs))}`);
      const result = toResult<R>(await client.query(queryConfig));
      await client.query(`SET LOCAL statement_timeout = ${config.statementTimeoutMs}`);
      return result;
    }
    const begin = wrappingBegin(queryConfig.text, timeoutMs ?? config.statementTimeoutMs, config.lockTimeoutMs);
    // Nothing to scope (both timeouts off, e.g. set per role on the server instead): one round trip.
    if (begin === undefined) return toResult<R>(await client.query(queryConfig));
    await client.query(begin);
    let result: QueryResult<R>;
    try {
      result = toResult<R>(await client.query(queryConfig));
    } catch (error) {
      if (!isPostgresDisconnect(error)) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await client.query('COMMIT');
    return result;
  }

  return {
    name: 'postgres',
    connector,
    query,
    classifyFailure: classifyPostgresFailure,
    transactionConflict: postgresTransactionConflict,
    placeholder: (index) => `$${index}`,
    quoteIdentifier: (name) => `"${name.replace(/"/g, '""')}"`,
    async begin(client, options?: TransactionOptions) {
      let text = 'BEGIN';
      if (options?.isolation !== undefined) text += ` ISOLATION LEVEL ${ISOLATION_SQL[options.isolation]}`;
      if (options?.readOnly) text += ' READ ONLY';
      // Behind a transaction pooler the session's timeouts are not ours: scope them to this transaction.
      if (transactionPooler) text += `; ${localTimeouts(config.statementTimeoutMs, config.lockTimeoutMs)}`;
      await query(client, text, undefined, undefined);
    },
    async commit(client) {
      await query(client, 'COMMIT', undefined, undefined);
    },
    async rollback(client) {
      await query(client, 'ROLLBACK', undefined, undefined);
    },
    batch: postgresBatch,
    server: { address: target.host, port: target.port, database: target.database },
    createMultiplexer: (pool) => createPostgresMultiplexer(pool as ConnectionPool<Client>, config),
  };
}
