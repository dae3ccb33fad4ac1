import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { gatherFacts } from '../../../src/cli/doctor/facts.js';
import { diagnose } from '../../../src/cli/doctor/findings.js';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import type { Database } from '../../../src/database.js';
import { createHandler } from '../../../src/http/handler.js';
import { type ChaosProxy, startTcpProxy } from '../../support/chaos-proxy.js';
import { POSTGRES_URL, requireServer } from '../../support/databases.js';
import { TempPostgres } from '../../support/pg-cluster.js';
import { createTestPki, type TestPki } from '../../support/tls-certs.js';
import { disposeAll, spillwayRejection, testPools } from '../../support/tls-pools.js';

// Two throwaway clusters on free ports (the shared server is never reconfigured): one serving TLS
// only (hostssl rules, so a plaintext session is refused; client-certificate authentication for one
// user), one plaintext only (ssl=off, initdb's default). Certificates come from openssl in a temp dir.
const open = testPools();
let pki: TestPki | undefined;
let tlsServer: TempPostgres | undefined;
let plainServer: TempPostgres | undefined;
/** A second loopback name for the TLS server, absent from its certificate (which says 127.0.0.1 and localhost). */
let otherName: ChaosProxy | undefined;

before(async (t) => {
  if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
  pki = await createTestPki('spillway_cert');
  [tlsServer, plainServer] = await Promise.all([
    TempPostgres.start({
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert },
      hba: ['local all all trust', 'hostssl all spillway_cert 127.0.0.1/32 cert', 'hostssl all all 127.0.0.1/32 trust'],
    }),
    TempPostgres.start(),
  ]);
  const admin = new pg.Client({ host: tlsServer.dir, port: tlsServer.port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE ROLE spillway_cert LOGIN');
  await admin.end();
  otherName = await startTcpProxy('127.0.0.1', tlsServer.port, '127.0.0.2');
});

// The proxy first: a server stops faster with no client left.
after(() => disposeAll(otherName).then(() => disposeAll(tlsServer, plainServer, pki)));

/** TLS in use on the connection the query runs on, from the server's own view. */
async function sessionTls(db: Database): Promise<{ ssl: boolean; version: string | null }> {
  const { rows } = await db.query<{ ssl: boolean; version: string | null }>(
    'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
  );
  return rows[0] as { ssl: boolean; version: string | null };
}

const tlsUrl = (query: string, host = '127.0.0.1', port = tlsServer?.port) => `postgres://postgres@${host}:${port}/postgres?${query}`;
const plainUrl = (query: string) => `postgres://postgres@127.0.0.1:${plainServer?.port}/postgres?${query}`;

describe('PostgreSQL TLS against real servers (libpq sslmode semantics)', () => {
  it('verify-full with the right CA connects over TLS, by IP and by host name', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const byIp = open(tlsUrl(`sslmode=verify-full&sslrootcert=${pki.caCert}`));
    const tls = await sessionTls(byIp);
    assert.equal(tls.ssl, true);
    assert.match(tls.version ?? '', /^TLSv1\.[23]$/);
    const byName = open(tlsUrl(`sslmode=verify-full&sslrootcert=${pki.caCert}`, 'localhost'));
    assert.equal((await sessionTls(byName)).ssl, true);
  });

  it('the TLS server refuses a plaintext session (hostssl only), so every success above was TLS', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    await assert.rejects(open(tlsUrl('sslmode=disable')).query('SELECT 1'), /no pg_hba\.conf entry.*no encryption/);
  });

  it('verify-full with a host name the certificate does not carry fails CONFIG_INVALID, at once and without opening the breaker', async (t) => {
    if (pki === undefined || otherName === undefined) return t.skip('no PostgreSQL on this machine');
    const db = open(tlsUrl(`sslmode=verify-full&sslrootcert=${pki.caCert}`, '127.0.0.2', otherName.port), {
      initializationTimeoutMs: 60_000,
    });
    // ready() retries connectivity failures for initializationTimeoutMs: this one it must not retry.
    const atStart = await spillwayRejection(db.ready());
    assert.equal(atStart.code, 'CONFIG_INVALID');
    assert.match(atStart.message, /certificate verification failed/);
    assert.match(atStart.message, /127\.0\.0\.2/);
    assert.match(atStart.message, /sslmode=verify-full/);
    for (let i = 0; i < 7; i++) assert.equal((await spillwayRejection(db.query('SELECT 1'))).code, 'CONFIG_INVALID');
    assert.equal(db.circuit()?.state, 'closed', 'a certificate failure is not a connectivity failure');
  });

  it('verify-full and verify-ca against an unrelated CA fail CONFIG_INVALID saying the certificate failed verification', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    for (const mode of ['verify-full', 'verify-ca']) {
      const error = await spillwayRejection(open(tlsUrl(`sslmode=${mode}&sslrootcert=${pki.otherCaCert}`)).query('SELECT 1'));
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /certificate verification failed/);
      assert.match(error.message, new RegExp(`sslmode=${mode}`));
    }
  });

  it('verify-ca checks the chain but not the host name', async (t) => {
    if (pki === undefined || otherName === undefined) return t.skip('no PostgreSQL on this machine');
    const db = open(tlsUrl(`sslmode=verify-ca&sslrootcert=${pki.caCert}`, '127.0.0.2', otherName.port));
    assert.equal((await sessionTls(db)).ssl, true);
  });

  it('require encrypts without verifying; with a root certificate it verifies the chain, as libpq does', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    assert.equal((await sessionTls(open(tlsUrl('sslmode=require')))).ssl, true);
    const pinned = await spillwayRejection(open(tlsUrl(`sslmode=require&sslrootcert=${pki.otherCaCert}`)).query('SELECT 1'));
    assert.equal(pinned.code, 'CONFIG_INVALID');
    assert.match(pinned.message, /certificate verification failed/);
  });

  it('require against a plaintext-only server fails CONFIG_INVALID: the server offers no TLS', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const error = await spillwayRejection(open(plainUrl('sslmode=require'), { initializationTimeoutMs: 60_000 }).ready());
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /sslmode=require requires TLS, but the server at 127\.0\.0\.1:\d+ does not offer it/);
  });

  it('prefer falls back to plaintext on a server without TLS, and uses TLS where it is offered', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    assert.equal((await sessionTls(open(plainUrl('sslmode=prefer')))).ssl, false);
    assert.equal((await sessionTls(open(tlsUrl('sslmode=prefer')))).ssl, true);
  });

  it('allow tries plaintext first and TLS when the server refuses plaintext', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    assert.equal((await sessionTls(open(plainUrl('sslmode=allow')))).ssl, false);
    assert.equal((await sessionTls(open(tlsUrl('sslmode=allow')))).ssl, true);
  });

  it('PGSSLMODE and PGSSLROOTCERT apply when the URL does not say; the URL wins when it does', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const env = { PGSSLMODE: 'verify-full', PGSSLROOTCERT: pki.caCert };
    assert.equal((await sessionTls(open(tlsUrl(''), { env }))).ssl, true);
    await assert.rejects(open(tlsUrl('sslmode=disable'), { env }).query('SELECT 1'), /no encryption/);
    const wrongCa = await spillwayRejection(open(tlsUrl(''), { env: { ...env, PGSSLROOTCERT: pki.otherCaCert } }).query('SELECT 1'));
    assert.match(wrongCa.message, /PGSSLMODE=verify-full/);
  });

  it('a client certificate authenticates (cert auth), from files, an encrypted key with sslpassword, or PEM in the tls option', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const user = (db: Database) => db.query<{ u: string }>('SELECT current_user AS u').then((r) => r.rows[0]?.u);
    const base = `postgres://spillway_cert@127.0.0.1:${tlsServer?.port}/postgres?sslmode=verify-full&sslrootcert=${pki.caCert}`;
    assert.equal(await user(open(`${base}&sslcert=${pki.clientCert}&sslkey=${pki.clientKey}`)), 'spillway_cert');
    const encrypted = `${base}&sslcert=${pki.clientCert}&sslkey=${pki.clientKeyEncrypted}&sslpassword=${pki.clientKeyPassphrase}`;
    assert.equal(await user(open(encrypted)), 'spillway_cert');
    const inline = open(base, {
      tls: { cert: readFileSync(pki.clientCert, 'utf8'), key: readFileSync(pki.clientKeyEncrypted), password: pki.clientKeyPassphrase },
    });
    assert.equal(await user(inline), 'spillway_cert');
    // Without the certificate the cert rule refuses the session.
    await assert.rejects(open(base).query('SELECT 1'), /client certificate/);
  });

  it('TLS secrets (key, passphrase, sslpassword) never reach an error, a log line, describeConfig or an endpoint', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const urlPassword = 'url-sslpassword-MARKER';
    const keyPem = readFileSync(pki.clientKeyEncrypted, 'utf8');
    const keyLines = keyPem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    const chunks: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _encoding, done) {
          chunks.push(String(chunk));
          done();
        },
      }),
    );
    // The wrong CA makes every connect fail: errors are thrown, logged and kept by the health checks.
    const db = open(
      `postgres://spillway_cert@127.0.0.1:${tlsServer?.port}/postgres?sslmode=verify-full&sslrootcert=${pki.otherCaCert}&sslpassword=${urlPassword}`,
      { logger, tls: { cert: readFileSync(pki.clientCert), key: keyPem, password: pki.clientKeyPassphrase } },
    );
    const seen: string[] = [];
    const error = await spillwayRejection(db.query('SELECT 1'));
    assert.equal(error.code, 'CONFIG_INVALID');
    for (let e: unknown = error; e instanceof Error; e = e.cause) seen.push(e.message, String(e.stack), JSON.stringify(e));
    await db.health();
    seen.push(JSON.stringify(db.describeConfig()));
    const server = http.createServer(createHandler({ pool: db, token: 't' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/metrics/database/config', '/health/detailed', '/metrics/database/health', '/metrics/database/pool']) {
        seen.push(await (await fetch(`${base}${path}`, { headers: { authorization: 'Bearer t' } })).text());
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    seen.push(chunks.join(''));
    const everything = seen.join('\n');
    assert.match(everything, /certificate verification failed/, 'the failure itself is reported');
    assert.ok(chunks.join('').includes('connection error'), 'the failed connect was logged');
    assert.ok(!everything.includes(pki.clientKeyPassphrase), 'no key passphrase');
    assert.ok(!everything.includes(urlPassword), 'no sslpassword from the URL');
    for (const line of keyLines) assert.ok(!everything.includes(line), 'no private key material');
  });

  it('spillway doctor reads TLS, its protocol and cipher from pg_stat_ssl, and what the mode verifies', async (t) => {
    if (pki === undefined) return t.skip('no PostgreSQL on this machine');
    const env = { HOME: '/nonexistent' };
    const verified = await gatherFacts(resolveConfig({ url: tlsUrl(`sslmode=verify-full&sslrootcert=${pki.caCert}`), env }), env);
    assert.equal(verified.tls, true);
    assert.match(verified.tlsVersion ?? '', /^TLSv1\.[23]$/);
    assert.ok((verified.tlsCipher ?? '').length > 0);
    const finding = diagnose(verified).findings.find((f) => f.check === 'tls');
    assert.equal(finding?.severity, 'ok');
    assert.match(finding?.message ?? '', /TLSv1\.[23], .+; sslmode=verify-full; certificate and host name verified/);
    // The environment the app runs with decides the mode when the URL does not.
    const fromEnv = await gatherFacts(resolveConfig({ url: tlsUrl(''), env: { PGSSLMODE: 'require' } }), { PGSSLMODE: 'require' });
    assert.deepEqual([fromEnv.tls, fromEnv.tlsMode, fromEnv.tlsVerify], [true, 'PGSSLMODE=require', 'none']);
    const plain = await gatherFacts(resolveConfig({ url: plainUrl('sslmode=prefer'), env }), env);
    assert.deepEqual([plain.tls, plain.tlsVersion], [false, undefined]);
  });
});
