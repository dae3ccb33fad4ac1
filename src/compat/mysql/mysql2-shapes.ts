import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { MysqlConnection } from '../../dialect/mysql/mysql-dialect.js';
import type { Lease } from '../../pool/lease.js';

/**
 * The parts of mysql2 the facade uses beyond the dialect's connection: its Query command, its promise
 * wrappers, its escaping. Declared here so the facade's modules share one view of mysql2, and loaded
 * on first use so that importing spillway/mysql loads nothing.
 */

export type QueryCallback = (error: Error | null, rows?: unknown, fields?: unknown) => void;

/** mysql2's Query command: an EventEmitter with the callback it settles (absent when streamed). */
export type QueryCommand = EventEmitter & { onResult?: QueryCallback; namedPlaceholders?: boolean };

/** The lease of a lent connection, on the connection itself (undefined while it is in the pool). */
export const LEASE = Symbol('spillway.lease');

/** mysql2's callback connection, as the dialect hands it out, with the methods a borrower calls. */
export type CoreConnection = MysqlConnection & {
  [LEASE]?: Lease<CoreConnection> | undefined;
  release: () => void;
  promise?: (promiseImpl?: PromiseConstructor) => unknown;
  reset(callback: (error: Error | null) => void): unknown;
  execute(sql: unknown, values: unknown, callback: QueryCallback): EventEmitter;
  query(sql: unknown, values: unknown, callback: QueryCallback): EventEmitter;
  query(command: QueryCommand): EventEmitter;
};

export interface Mysql2CallbackModule {
  createQuery(sql: unknown, values: unknown, callback: QueryCallback | undefined, config: Record<string, unknown>): QueryCommand;
  createPoolCluster(config?: Record<string, unknown>): unknown;
  PoolCluster: new (config?: Record<string, unknown>) => EventEmitter;
  escape(value: unknown): string;
  escapeId(value: unknown): string;
  format(sql: string, values?: unknown): string;
}

export interface Mysql2PromiseModule {
  PromisePoolConnection: new (connection: CoreConnection, promise?: PromiseConstructor) => unknown;
  createPoolCluster(config?: Record<string, unknown>): EventEmitter & { poolCluster: unknown };
}

const requireCjs = createRequire(import.meta.url);
let callbackModule: Mysql2CallbackModule | undefined;
let promiseModule: Mysql2PromiseModule | undefined;

export function mysql2Callback(): Mysql2CallbackModule {
  callbackModule ??= requireCjs('mysql2') as Mysql2CallbackModule;
  return callbackModule;
}

export function mysql2Promise(): Mysql2PromiseModule {
  promiseModule ??= requireCjs('mysql2/promise') as Mysql2PromiseModule;
  return promiseModule;
}
