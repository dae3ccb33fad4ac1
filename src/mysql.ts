/**
 * `spillway/mysql`: a drop-in for mysql2/promise's `createPool`, on Spillway's pool.
 *
 * @example
 * import { createPool } from 'spillway/mysql'; // was: import { createPool } from 'mysql2/promise'
 */

export type { SpillwayExtras } from './compat/facade-settings.js';
export { createPool, Pool, type SpillwayMysqlPool } from './compat/mysql/mysql-pool.js';
export type { MysqlPoolConfig } from './compat/mysql/mysql-pool-options.js';
