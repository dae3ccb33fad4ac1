/**
 * `spillway/pg`: a drop-in replacement for node-postgres' `pg.Pool`, on Spillway's pool.
 *
 * @example
 * import { Pool } from 'spillway/pg'; // was: import { Pool } from 'pg'
 */
export { Pool } from './compat/pg/pg-pool.js';
export type { PgPoolConfig, SpillwayExtras } from './compat/pg/pg-pool-options.js';
