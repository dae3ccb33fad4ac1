/**
 * `spillway/mysql`: a drop-in for mysql2/promise's `createPool` and `createPoolCluster`, on Spillway's
 * pool. The callback API of the plain `mysql2` entry is `spillway/mysql/callback`.
 *
 * @example
 * import { createPool } from 'spillway/mysql'; // was: import { createPool } from 'mysql2/promise'
 */

export type { SpillwayExtras } from './compat/facade-settings.js';
export { MYSQL2_POOL_MESSAGES } from './compat/mysql/mysql-callback-pool.js';
export { createPool, Pool, type SpillwayMysqlPool } from './compat/mysql/mysql-pool.js';
export { createPoolCluster, type SpillwayMysqlPromisePoolCluster } from './compat/mysql/mysql-pool-cluster.js';
export type { MysqlPoolConfig } from './compat/mysql/mysql-pool-options.js';
