/**
 * `spillway/mysql/callback`: a drop-in for the plain `mysql2` entry's callback `createPool` and
 * `createPoolCluster`, on Spillway's pool (Sequelize and many older apps use this API).
 *
 * @example
 * import { createPool } from 'spillway/mysql/callback'; // was: import { createPool } from 'mysql2'
 */

import { createCallbackPool } from './compat/mysql/mysql-pool.js';
import { createCallbackPoolCluster } from './compat/mysql/mysql-pool-cluster.js';

export type { SpillwayExtras } from './compat/facade-settings.js';
export { CallbackPool as Pool, MYSQL2_POOL_MESSAGES } from './compat/mysql/mysql-callback-pool.js';
export type { SpillwayMysqlCallbackPool } from './compat/mysql/mysql-pool.js';
export type { SpillwayMysqlPoolCluster as SpillwayMysqlCallbackPoolCluster } from './compat/mysql/mysql-pool-cluster.js';
export type { MysqlPoolConfig } from './compat/mysql/mysql-pool-options.js';
export { createCallbackPool as createPool, createCallbackPoolCluster as createPoolCluster };

export default { createPool: createCallbackPool, createPoolCluster: createCallbackPoolCluster };
