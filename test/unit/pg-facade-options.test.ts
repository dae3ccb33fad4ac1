// How spillway/pg's Pool translates a pg.Pool config: pg.Pool's defaults, Spillway's options riding
// along, and the password kept out of every URL and description. Constructing a Pool connects nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planPgPool } from '../../src/compat/pg/pg-pool-options.js';
import { Pool } from '../../src/pg.js';

describe('spillway/pg Pool options', () => {
  it("follows pg.Pool's defaults: no checkout timeout, 10 s idle, no pre-ping, no overflow, no statement timeout", () => {
    const pool = new Pool({ host: '127.0.0.1', user: 'app', database: 'db' });
    const config = pool.spillway.config;
    assert.equal(config.size, 10);
    assert.equal(config.maxOverflow, 0);
    assert.equal(config.checkoutTimeoutMs, 0);
    assert.equal(config.idleTimeoutMs, 10_000);
    assert.equal(config.prePing, false);
    assert.equal(config.statementTimeoutMs, 0);
    assert.equal(config.leakThresholdMs, 0);
    assert.equal(config.recycleMs, 0);
    assert.equal(config.connectTimeoutMs, 2_147_483_647, 'no bound on one connect, as in pg.Pool');
    assert.equal(pool.options.max, 10);
    assert.equal(pool.options.idleTimeoutMillis, 10_000);
    assert.equal(pool.totalCount, 0);
  });

  it('maps pg.Pool options and lets Spillway options ride along', () => {
    const pool = new Pool({
      connectionString: 'postgres://app@db.internal:6000/orders',
      max: 20,
      min: 2,
      idleTimeoutMillis: 0,
      connectionTimeoutMillis: 2500,
      maxUses: 500,
      maxLifetimeSeconds: 60,
      maxOverflow: 5,
      prePing: true,
      leakThresholdMs: 30_000,
      name: 'orders',
    });
    const config = pool.spillway.config;
    assert.deepEqual(
      [config.size, config.minIdle, config.idleTimeoutMs, config.checkoutTimeoutMs, config.connectTimeoutMs],
      [20, 2, 0, 2500, 2500],
    );
    assert.deepEqual([config.maxUses, config.recycleMs, config.maxOverflow, config.prePing], [500, 60_000, 5, true]);
    assert.equal(config.leakThresholdMs, 30_000);
    assert.deepEqual(
      [config.target.host, config.target.port, config.target.database, config.name],
      ['db.internal', 6000, 'orders', 'orders'],
    );
  });

  it('keeps the password out of the URL, the description and pool.options enumeration', () => {
    for (const config of [
      { connectionString: 'postgres://app:s3cret-pw@127.0.0.1:5432/db' },
      { host: '127.0.0.1', user: 'app', password: 's3cret-pw' },
    ]) {
      const pool = new Pool(config);
      assert.ok(!pool.spillway.config.url.includes('s3cret-pw'));
      assert.ok(!JSON.stringify(pool.spillway.describeConfig()).includes('s3cret-pw'));
      assert.equal(pool.spillway.describeConfig().password, '***');
      assert.equal(typeof pool.spillway.config.password, 'string', 'the password reaches the dialect through the password option');
      assert.ok(!Object.keys(pool.options).includes('password'), 'hidden from console.log, as pg.Pool hides it');
    }
  });

  it("ignores Spillway's DB_* environment unless env is given", () => {
    process.env.DB_POOL_PRE_PING = 'true';
    try {
      assert.equal(new Pool({ host: 'h' }).spillway.config.prePing, false);
    } finally {
      delete process.env.DB_POOL_PRE_PING;
    }
  });

  it("hands each client pg.Pool's own options object, as pg.Pool does; opt-in session timeouts join its startup options", () => {
    const config = {
      host: 'h',
      ssl: { rejectUnauthorized: false },
      statement_timeout: 1000,
      application_name: 'mine',
      max: 3,
      password: 'pw',
    };
    const plan = planPgPool(config);
    assert.equal(plan.clientConfig, plan.poolOptions, 'the very object, pool settings included');
    assert.equal((plan.clientConfig as Record<string, unknown>).max, 3);
    assert.equal(plan.clientConfig.password, 'pw');
    assert.deepEqual(plan.clientConfig.ssl, { rejectUnauthorized: false });

    const timed = planPgPool({ ...config, options: '-c search_path=app', statementTimeoutMs: 5000, lockTimeoutMs: 2000 });
    assert.equal(timed.clientConfig.options, '-c search_path=app -c statement_timeout=5000 -c lock_timeout=2000');
    assert.equal(timed.clientConfig.password, 'pw', 'the copy keeps the password');
    assert.ok(!Object.keys(timed.clientConfig).includes('password'), 'still hidden');
    assert.equal(planPgPool({ ...config, statementTimeoutMs: 5000, serverPooler: 'transaction' }).clientConfig.options, undefined);
  });

  it('times every client in the facade: the core reaps, recycles, tops up and hedges nothing of its own', () => {
    const plan = planPgPool({ idleTimeoutMillis: 500, min: 2, maxUses: 7, maxLifetimeSeconds: 3 });
    assert.deepEqual(plan.core, {
      minIdle: 0,
      idleTimeoutMs: 0,
      maxUses: 0,
      recycleMs: 0,
      connectTimeoutMs: 2_147_483_647,
      hedgeConnects: false,
      closingHoldsSlot: false,
    });
    assert.deepEqual([plan.pg.idleTimeoutMillis, plan.pg.min, plan.pg.maxUses, plan.pg.maxLifetimeSeconds], [500, 2, 7, 3]);
    assert.equal(plan.circuitBreaker, false, 'pg.Pool has no breaker');
    const opted = planPgPool({ recycleMs: 60_000, connectTimeoutMs: 3000, circuit: { failureThreshold: 3 } });
    assert.deepEqual([opted.core.recycleMs, opted.core.connectTimeoutMs, opted.circuitBreaker], [60_000, 3000, true]);
  });

  it('hides ssl.key from enumeration, as pg.Pool does', () => {
    const ssl = { key: 'PRIVATE KEY', rejectUnauthorized: false };
    planPgPool({ ssl });
    assert.equal(ssl.key, 'PRIVATE KEY');
    assert.ok(!Object.keys(ssl).includes('key'));
  });

  it("leaves TLS to pg: the PGSSL* environment is pg's to read, even with env: process.env", () => {
    // libpq would refuse verify-full without a CA file; pg checks against Node's roots, and the facade keeps pg's rules.
    const env = { PGSSLMODE: 'verify-full', HOME: '/nonexistent' };
    const pool = new Pool({ host: 'h', env });
    assert.equal(pool.spillway.config.tls.mode, 'disable');
    assert.equal(planPgPool({ host: 'h', env }).clientConfig.ssl, undefined, 'pg reads PGSSLMODE itself');
  });

  it('rejects invalid Spillway options with CONFIG_INVALID', () => {
    assert.throws(() => new Pool({ host: 'h', maxOverflow: -1 }), { code: 'CONFIG_INVALID' });
  });
});
