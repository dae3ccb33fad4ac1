// How spillway/mysql's createPool translates a mysql2 pool config: mysql2's defaults, Spillway's
// options riding along, the password kept out of every URL. Creating a pool connects nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { planMysqlPool } from '../../src/compat/mysql/mysql-pool-options.js';
import { createPool } from '../../src/mysql.js';

describe('spillway/mysql createPool options', () => {
  it("follows mysql2's pool defaults: 10 connections, no checkout timeout, no idle reaping, no overflow", async () => {
    const pool = createPool({ host: '127.0.0.1', user: 'app', database: 'db' });
    const config = pool.spillway.config;
    assert.deepEqual([config.size, config.maxOverflow, config.checkoutTimeoutMs, config.idleTimeoutMs], [10, 0, 0, 0]);
    assert.deepEqual([config.prePing, config.statementTimeoutMs, config.leakThresholdMs], [false, 0, 0]);
    assert.equal(pool.spillway.status().total, 0);
    await pool.end();
  });

  it('maps connectionLimit, maxIdle/idleTimeout and connectTimeout; Spillway options ride along', async () => {
    const pool = createPool({
      uri: 'mysql://app@db.internal:3307/shop',
      connectionLimit: 20,
      maxIdle: 5,
      idleTimeout: 30_000,
      connectTimeout: 2000,
      maxOverflow: 4,
      prePing: true,
    });
    const config = pool.spillway.config;
    assert.deepEqual(
      [config.size, config.idleTimeoutMs, config.connectTimeoutMs, config.maxOverflow, config.prePing],
      [20, 30_000, 2000, 4, true],
    );
    assert.deepEqual([config.target.host, config.target.port, config.target.database], ['db.internal', 3307, 'shop']);
    await pool.end();
  });

  it('keeps the password out of the URL and the description, and pool settings away from connections', async () => {
    for (const input of [{ uri: 'mysql://app:s3cret-pw@127.0.0.1/db' }, { host: '127.0.0.1', user: 'app', password: 's3cret-pw' }]) {
      const pool = createPool(input);
      assert.ok(!pool.spillway.config.url.includes('s3cret-pw'));
      assert.ok(!JSON.stringify(pool.spillway.describeConfig()).includes('s3cret-pw'));
      await pool.end();
    }
    const plan = planMysqlPool({ host: 'h', connectionLimit: 3, queueLimit: 2, timezone: 'Z', maxOverflow: 1 });
    assert.equal(plan.connectionOptions.timezone, 'Z');
    assert.equal(plan.connectionOptions.connectionLimit, undefined);
    assert.equal(plan.connectionOptions.maxOverflow, undefined);
    assert.equal(plan.connectionOptions.password, undefined);
    assert.equal(plan.queueLimit, 2);
  });

  it('refuses a uri that does not parse with CONFIG_INVALID, never echoing its password', () => {
    // URL's own TypeError would carry the whole URL, password included, as its `input` field.
    for (const password of ['Xy/9+abc=', 'pa#ss', 'pa?ss']) {
      let thrown: unknown;
      try {
        createPool({ uri: `mysql://app:${password}@127.0.0.1/db` });
      } catch (error) {
        thrown = error;
      }
      assert.equal((thrown as { code?: unknown }).code, 'CONFIG_INVALID');
      assert.match((thrown as Error).message, /^uri="mysql:\/\/app:\*\*\*@127\.0\.0\.1\/db" is not a valid URL/);
      assert.ok(!inspect(thrown).includes(password), inspect(thrown));
    }
  });

  it("accepts resetOnRelease, as mysql2's pool does, and reports it in pool.config", async () => {
    const pool = createPool({ host: 'h', resetOnRelease: true } as never);
    assert.equal((pool as unknown as { pool: { config: { resetOnRelease: boolean } } }).pool.config.resetOnRelease, true);
    await pool.end();
  });
});
