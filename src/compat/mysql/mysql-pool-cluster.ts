import type { EventEmitter } from 'node:events';
import type { PoolCluster as Mysql2CallbackPoolCluster, PoolClusterOptions } from 'mysql2';
import type { PoolCluster as Mysql2PromisePoolCluster } from 'mysql2/promise';
import { CallbackPool } from './mysql-callback-pool.js';
import type { MysqlPoolConfig } from './mysql-pool-options.js';
import { mysql2Callback, mysql2Promise } from './mysql2-shapes.js';

/**
 * mysql2's PoolCluster, with Spillway pools as its nodes. Everything a cluster user relies on (the
 * patterns, the RR / RANDOM / ORDER selectors, canRetry, removeNodeErrorCount, restoreNodeTimeout,
 * the `warn`, `remove`, `offline` and `online` events, `of()`, `end()`) is mysql2's own code, so it
 * behaves exactly as mysql2's; only `add()` differs, and it must write the cluster's private node
 * table to do so. This module is the one place that touches mysql2's private cluster fields, and it
 * checks their shape when it first loads (mysql2 3.x), failing loudly if a mysql2 update changed them.
 */

/** The private fields of mysql2's PoolCluster that `add()` writes (lib/pool_cluster.js, mysql2 3.x). */
interface ClusterPrivates {
  _lastId: number;
  _nodes: Record<string, { id: string; errorCount: number; pool: unknown; _offlineUntil: number }>;
  _serviceableNodeIds: string[];
  _clearFindCaches(): void;
}

type ClusterClass = new (config?: PoolClusterOptions) => EventEmitter;

let callbackCluster: ClusterClass | undefined;
let promiseCluster: (new (cluster: unknown, promiseImpl: PromiseConstructor) => EventEmitter) | undefined;

/** Fails when mysql2's PoolCluster no longer has the private fields `add()` writes. */
export function checkClusterShape(cluster: unknown): void {
  const fields = cluster as Partial<ClusterPrivates>;
  const fits =
    typeof fields._lastId === 'number' &&
    typeof fields._nodes === 'object' &&
    fields._nodes !== null &&
    Array.isArray(fields._serviceableNodeIds) &&
    typeof fields._clearFindCaches === 'function';
  if (!fits) {
    throw new Error(
      'spillway/mysql: this mysql2 version changed PoolCluster (_lastId, _nodes, _serviceableNodeIds, _clearFindCaches); createPoolCluster needs an update',
    );
  }
}

/** mysql2's PoolCluster whose nodes are Spillway pools (built on first use: mysql2 loads only then). */
function callbackClusterClass(): ClusterClass {
  if (callbackCluster !== undefined) return callbackCluster;
  const Base = mysql2Callback().PoolCluster as unknown as ClusterClass;
  class PoolCluster extends Base {
    /** mysql2's add(id?, config), with a Spillway pool for the node. */
    add(idOrConfig: string | MysqlPoolConfig, maybeConfig?: MysqlPoolConfig): void {
      const self = this as unknown as ClusterPrivates;
      let id = idOrConfig as string;
      let config = maybeConfig as MysqlPoolConfig;
      if (typeof idOrConfig === 'object') {
        config = idOrConfig;
        id = `CLUSTER::${++self._lastId}`;
      }
      if (self._nodes[id] !== undefined) return;
      // Each node is labelled by its id on Spillway's metrics and logs, unless the config names it.
      self._nodes[id] = { id, errorCount: 0, pool: new CallbackPool({ name: id, ...config }), _offlineUntil: 0 };
      self._serviceableNodeIds.push(id);
      self._clearFindCaches();
    }
  }
  checkClusterShape(new PoolCluster());
  callbackCluster = PoolCluster;
  return PoolCluster;
}

/** mysql2/promise's PromisePoolCluster (not exported by mysql2: taken from a cluster it makes), with add() reaching our nodes. */
function promiseClusterClass(): NonNullable<typeof promiseCluster> {
  if (promiseCluster !== undefined) return promiseCluster;
  const Base = mysql2Promise().createPoolCluster().constructor as new (
    cluster: unknown,
    promiseImpl: PromiseConstructor,
  ) => EventEmitter & {
    poolCluster: { add(id: unknown, config?: unknown): void };
  };
  class PromisePoolCluster extends Base {
    // mysql2's promise cluster applies PoolCluster.prototype.add to its core cluster, bypassing ours.
    add(id: unknown, config?: unknown): void {
      this.poolCluster.add(id, config);
    }
  }
  promiseCluster = PromisePoolCluster;
  return PromisePoolCluster;
}

/** What `spillway/mysql/callback`'s createPoolCluster returns: mysql2's callback PoolCluster. */
export type SpillwayMysqlPoolCluster = Mysql2CallbackPoolCluster;
/** What `spillway/mysql`'s createPoolCluster returns: mysql2/promise's PoolCluster. */
export type SpillwayMysqlPromisePoolCluster = Mysql2PromisePoolCluster;

/**
 * A drop-in for the plain `mysql2` entry's `createPoolCluster`: mysql2's cluster, Spillway pools as its nodes.
 *
 * @example
 * import { createPoolCluster } from 'spillway/mysql/callback'; // was: import { createPoolCluster } from 'mysql2'
 * const cluster = createPoolCluster({ removeNodeErrorCount: 3, restoreNodeTimeout: 10_000 });
 * cluster.add('REPLICA1', { uri: process.env.REPLICA1_URL });
 * cluster.of('REPLICA*', 'RR').query('SELECT 1', (error, rows) => { ... });
 */
export function createCallbackPoolCluster(config?: PoolClusterOptions): SpillwayMysqlPoolCluster {
  const PoolCluster = callbackClusterClass();
  return new PoolCluster(config) as unknown as SpillwayMysqlPoolCluster;
}

/**
 * A drop-in for mysql2/promise's `createPoolCluster`: mysql2's promise cluster, Spillway pools as its nodes.
 *
 * @example
 * import { createPoolCluster } from 'spillway/mysql'; // was: import { createPoolCluster } from 'mysql2/promise'
 * const cluster = createPoolCluster();
 * cluster.add('WRITER', { uri: process.env.WRITER_URL });
 * const [rows] = await cluster.of('WRITER').query('SELECT 1');
 */
export function createPoolCluster(config?: PoolClusterOptions & { Promise?: PromiseConstructor }): SpillwayMysqlPromisePoolCluster {
  const PromisePoolCluster = promiseClusterClass();
  const core = createCallbackPoolCluster(config);
  return new PromisePoolCluster(core, config?.Promise ?? Promise) as unknown as SpillwayMysqlPromisePoolCluster;
}
