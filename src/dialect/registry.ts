import type { DialectName, ResolvedConfig } from '../config/options.js';
import type { Dialect, DialectFactory } from './dialect.js';
import { createMysqlDialect } from './mysql/mysql-dialect.js';
import { createPostgresDialect } from './postgres/postgres-dialect.js';
import { createSqliteDialect } from './sqlite/sqlite-dialect.js';

/**
 * Dialect factories by name. Each factory loads its driver lazily, so importing Spillway never
 * loads pg, mysql2 or better-sqlite3 until a URL asks for one.
 */
const FACTORIES: Partial<Record<DialectName, DialectFactory>> = {
  postgres: createPostgresDialect as DialectFactory,
  mysql: createMysqlDialect as DialectFactory,
  sqlite: createSqliteDialect as DialectFactory,
};

export function registerDialect(name: DialectName, factory: DialectFactory): void {
  FACTORIES[name] = factory;
}

export function createDialect(config: ResolvedConfig): Dialect {
  const factory = FACTORIES[config.target.dialect];
  if (factory === undefined) throw new Error(`No dialect registered for ${config.target.dialect}`);
  return factory(config);
}
