import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import type { PoolOptions } from '../../src/config/options.js';
import { describeConfig, resolveConfig } from '../../src/config/resolve-config.js';
import { createMysqlDialect } from '../../src/dialect/mysql/mysql-dialect.js';
import { TlsMaterialLoader } from '../../src/dialect/tls-material.js';
import { ConfigError } from '../../src/errors.js';
import { createTestPki, type TestPki } from '../support/tls-certs.js';

// Resolution rules only: no server. Certificates come from openssl in a temp dir; HOME points at an
// empty dir so a developer's ~/.postgresql never changes the outcome.
let pki: TestPki;
let emptyHome: string;

before(async () => {
  pki = await createTestPki();
  emptyHome = mkdtempSync(join(tmpdir(), 'spillway-home-'));
});
after(() => {
  pki.remove();
  rmSync(emptyHome, { recursive: true, force: true });
});

const pgUrl = 'postgres://app@db.example:5432/app';
const myUrl = 'mysql://app@db.example:3306/app';

function tlsOf(options: PoolOptions) {
  return resolveConfig({ ...options, env: { HOME: emptyHome, ...options.env } }).tls;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('TLS settings: libpq rules on PostgreSQL', () => {
  it('defaults to no TLS (pg and mysql2 defaults), with the option over the URL over PGSSLMODE', () => {
    assert.equal(tlsOf({ url: pgUrl }).mode, 'disable');
    assert.equal(tlsOf({ url: pgUrl, env: { PGSSLMODE: 'require' } }).mode, 'require');
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=prefer`, env: { PGSSLMODE: 'require' } }).modeVariable, 'sslmode');
    const option = tlsOf({ url: `${pgUrl}?sslmode=prefer`, tls: { mode: 'require' } });
    assert.deepEqual([option.mode, option.modeVariable], ['require', 'tls.mode']);
    assert.equal(tlsOf({ url: `${pgUrl}?ssl=true` }).mode, 'require');
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=no-verify` }).mode, 'require');
  });

  it('require verifies nothing without a root certificate, and the chain with one (libpq: "if a root CA file exists")', () => {
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=require` }).verify, 'none');
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=require&sslrootcert=${pki.caCert}` }).verify, 'chain');
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=verify-ca&sslrootcert=${pki.caCert}` }).verify, 'chain');
    assert.equal(tlsOf({ url: `${pgUrl}?sslmode=verify-full&sslrootcert=${pki.caCert}` }).verify, 'chain-and-host');
  });

  it('uses ~/.postgresql/root.crt, postgresql.crt and postgresql.key when present, as libpq does', () => {
    const home = mkdtempSync(join(tmpdir(), 'spillway-home-'));
    try {
      mkdirSync(join(home, '.postgresql'));
      copyFileSync(pki.caCert, join(home, '.postgresql', 'root.crt'));
      copyFileSync(pki.clientCert, join(home, '.postgresql', 'postgresql.crt'));
      copyFileSync(pki.clientKey, join(home, '.postgresql', 'postgresql.key'));
      const tls = resolveConfig({ url: `${pgUrl}?sslmode=require`, env: { HOME: home } }).tls;
      assert.equal(tls.verify, 'chain');
      assert.equal(tls.rootCert !== 'system' && tls.rootCert?.file, join(home, '.postgresql', 'root.crt'));
      assert.equal(tls.cert?.file, join(home, '.postgresql', 'postgresql.crt'));
      assert.equal(tls.key?.file, join(home, '.postgresql', 'postgresql.key'));
      // sslmode=disable reads nothing.
      assert.equal(resolveConfig({ url: pgUrl, env: { HOME: home } }).tls.rootCert, undefined);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('verify-ca and verify-full need a CA: CONFIG_INVALID naming sslrootcert, not a silent downgrade', () => {
    const error = configError(() => tlsOf({ url: `${pgUrl}?sslmode=verify-full` }));
    assert.equal(error.variable, 'sslrootcert');
    assert.match(error.message, /sslmode=verify-full needs the CA/);
    assert.match(error.message, /sslrootcert=system/);
  });

  it('sslrootcert=system means verify-full against the trusted roots and refuses a weaker mode (libpq 16)', () => {
    const tls = tlsOf({ url: `${pgUrl}?sslrootcert=system` });
    assert.deepEqual([tls.mode, tls.verify, tls.rootCert], ['verify-full', 'chain-and-host', 'system']);
    const error = configError(() => tlsOf({ url: `${pgUrl}?sslrootcert=system&sslmode=require` }));
    assert.equal(error.variable, 'sslmode');
    assert.match(error.message, /accepted: verify-full/);
  });

  it('names the setting for a bad mode, a missing file, or a certificate without its key', () => {
    assert.equal(configError(() => tlsOf({ url: `${pgUrl}?sslmode=verify_full` })).variable, 'sslmode');
    assert.equal(configError(() => tlsOf({ url: pgUrl, env: { PGSSLMODE: 'on' } })).variable, 'PGSSLMODE');
    assert.equal(configError(() => tlsOf({ url: pgUrl, tls: { mode: 'strict' } })).variable, 'tls.mode');
    const missing = configError(() => tlsOf({ url: `${pgUrl}?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem` }));
    assert.equal(missing.variable, 'sslrootcert');
    assert.match(missing.message, /does not exist/);
    assert.equal(configError(() => tlsOf({ url: pgUrl, env: { PGSSLMODE: 'require', PGSSLCERT: pki.clientCert } })).variable, 'sslkey');
    assert.equal(configError(() => tlsOf({ url: pgUrl, tls: { mode: 'require', key: pki.clientKey } })).variable, 'sslcert');
    assert.equal(configError(() => tlsOf({ url: pgUrl, tls: { nope: 1 } as never })).variable, 'tls.nope');
    assert.equal(configError(() => resolveConfig({ url: 'sqlite::memory:', tls: { mode: 'require' } })).variable, 'tls');
  });
});

describe('TLS settings: MySQL client rules on MySQL/MariaDB', () => {
  it("maps MySQL's ssl-mode names, and ssl-ca alone means VERIFY_CA", () => {
    const cases: [string, string, string][] = [
      ['ssl-mode=DISABLED', 'disable', 'none'],
      ['ssl-mode=preferred', 'prefer', 'none'],
      ['ssl-mode=REQUIRED', 'require', 'none'],
      [`ssl-mode=VERIFY_CA&ssl-ca=${pki.caCert}`, 'verify-ca', 'chain'],
      [`ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`, 'verify-full', 'chain-and-host'],
      [`ssl-ca=${pki.caCert}`, 'verify-ca', 'chain'],
    ];
    for (const [query, mode, verify] of cases) {
      const tls = tlsOf({ url: `${myUrl}?${query}` });
      assert.deepEqual([tls.mode, tls.verify], [mode, verify], query);
    }
    // Without ssl-ca the VERIFY modes check against Node's trusted roots, as mysql2 does.
    assert.equal(tlsOf({ url: `${myUrl}?ssl-mode=VERIFY_IDENTITY` }).rootCert, 'system');
    assert.equal(tlsOf({ url: myUrl, tls: { mode: 'verify-full' } }).mode, 'verify-full');
  });

  it('refuses PostgreSQL-only spellings in the URL, allow, and mysql2 ssl next to a mode', () => {
    assert.equal(configError(() => tlsOf({ url: `${myUrl}?ssl-mode=require` })).variable, 'ssl-mode');
    assert.equal(configError(() => tlsOf({ url: myUrl, tls: { mode: 'allow' } })).variable, 'tls.mode');
    // Caught when the dialect is built (createPool), before anything connects.
    const config = resolveConfig({ url: `${myUrl}?ssl-mode=REQUIRED`, env: {}, dialectOptions: { ssl: {} } });
    assert.equal(configError(() => createMysqlDialect(config)).variable, 'dialectOptions.ssl');
  });
});

describe('TLS secrets', () => {
  it('describeConfig shows the mode and file paths, never a key or a passphrase', () => {
    const keyPem = readFileSync(pki.clientKeyEncrypted, 'utf8');
    const config = resolveConfig({
      url: `${pgUrl}?sslmode=verify-full&sslrootcert=${pki.caCert}&sslpassword=url-pass-MARKER`,
      env: { HOME: emptyHome },
      tls: { cert: readFileSync(pki.clientCert, 'utf8'), key: keyPem, password: pki.clientKeyPassphrase },
    });
    const shown = JSON.stringify(describeConfig(config));
    assert.doesNotMatch(shown, /url-pass-MARKER/);
    assert.ok(!shown.includes(pki.clientKeyPassphrase), 'no passphrase');
    const keyBody = keyPem.split('\n')[1] as string;
    assert.ok(keyBody.length > 20 && !shown.includes(keyBody), 'no key material');
    // The resolved config itself, logged or serialised whole by an app, shows neither.
    for (const whole of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      assert.ok(!whole.includes(pki.clientKeyPassphrase) && !whole.includes(keyBody), 'hidden from JSON and inspect');
    }
    assert.equal(config.tls.password?.value, pki.clientKeyPassphrase, 'still there for the driver');
    const tls = describeConfig(config).tls as Record<string, unknown>;
    assert.deepEqual(
      { mode: tls.mode, verify: tls.verify, rootCert: tls.rootCert, key: tls.key, password: tls.password },
      { mode: 'verify-full', verify: 'chain-and-host', rootCert: pki.caCert, key: '***', password: '***' },
    );
  });

  it('a wrong or missing passphrase is CONFIG_INVALID when the pool is built, and the message never quotes the key or passphrase', () => {
    const wrong = 'wrong-pass-MARKER';
    const settings = tlsOf({
      url: `${pgUrl}?sslmode=require&sslcert=${pki.clientCert}&sslkey=${pki.clientKeyEncrypted}&sslpassword=${wrong}`,
    });
    const error = configError(() => new TlsMaterialLoader(settings));
    assert.equal(error.variable, 'sslpassword');
    assert.doesNotMatch(error.message + String(error.stack), /wrong-pass-MARKER/);
    assert.ok(!error.message.includes(readFileSync(pki.clientKeyEncrypted, 'utf8').split('\n')[1] as string));
    const none = configError(
      () => new TlsMaterialLoader(tlsOf({ url: `${pgUrl}?sslmode=require&sslcert=${pki.clientCert}&sslkey=${pki.clientKeyEncrypted}` })),
    );
    assert.equal(none.variable, 'sslkey');
    assert.match(none.message, /encrypted/);
  });
});

describe('TLS material on disk', () => {
  it('is read again when a file changes, so a rotated CA or client certificate applies to the next connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-rotate-'));
    try {
      const ca = join(dir, 'ca.crt');
      copyFileSync(pki.caCert, ca);
      const loader = new TlsMaterialLoader(tlsOf({ url: `${pgUrl}?sslmode=verify-ca&sslrootcert=${ca}` }));
      const first = await loader.current();
      assert.equal(await loader.current(), first, 'unchanged files: the same material and secure context');
      copyFileSync(pki.otherCaCert, ca);
      utimesSync(ca, new Date(), new Date(Date.now() + 5000));
      const second = await loader.current();
      assert.notEqual(second, first);
      assert.equal(String(second.ca), readFileSync(pki.otherCaCert, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
