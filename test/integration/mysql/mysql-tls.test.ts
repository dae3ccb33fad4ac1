import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gatherFacts } from '../../../src/cli/doctor/facts.js';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import type { Database } from '../../../src/database.js';
import { type ChaosProxy, startTcpProxy } from '../../support/chaos-proxy.js';
import { MYSQL_URL, requireServer } from '../../support/databases.js';
import { mariadbBinariesPresent, TempMariadb } from '../../support/mariadb-server.js';
import { createTestPki, type TestPki } from '../../support/tls-certs.js';
import { disposeAll, spillwayRejection, testPools } from '../../support/tls-pools.js';

// Two throwaway MariaDB servers on free ports (the shared one on 3306 is never reconfigured): one
// with --ssl-cert/--ssl-key/--ssl-ca, where the test users REQUIRE SSL (or a client certificate), and
// one with TLS off. Certificates come from openssl in a temp dir.
const open = testPools();
let pki: TestPki | undefined;
let tlsServer: TempMariadb | undefined;
let plainServer: TempMariadb | undefined;
/** A second loopback name for the TLS server, absent from its certificate. */
let otherName: ChaosProxy | undefined;

before(async (t) => {
  if (!(await requireServer(t as never, MYSQL_URL, 'mysql'))) return;
  if (!mariadbBinariesPresent()) {
    if (process.env.CI) throw new Error('CI is set but mariadbd is not installed');
    return; // each test then skips, saying so
  }
  pki = await createTestPki('spillway_cert');
  [tlsServer, plainServer] = await Promise.all([
    TempMariadb.start({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert } }),
    TempMariadb.start(),
  ]);
  await tlsServer.admin([
    "CREATE USER 'tls_required'@'%' REQUIRE SSL",
    "GRANT ALL ON *.* TO 'tls_required'@'%'",
    "CREATE USER 'x509_user'@'%' REQUIRE SUBJECT '/CN=spillway_cert'",
    "GRANT ALL ON *.* TO 'x509_user'@'%'",
  ]);
  await plainServer.admin(["CREATE USER 'plain'@'%'", "GRANT ALL ON *.* TO 'plain'@'%'"]);
  otherName = await startTcpProxy('127.0.0.1', tlsServer.port, '127.0.0.2');
});

// The proxy first: a server stops faster with no client left.
after(() => disposeAll(otherName).then(() => disposeAll(tlsServer, plainServer, pki)));

/** The session's TLS protocol as the server reports it ('' without TLS). */
async function sessionTls(db: Database): Promise<string> {
  const { rows } = await db.query<{ Variable_name: string; Value: string }>("SHOW SESSION STATUS LIKE 'Ssl_version'");
  return rows[0]?.Value ?? '';
}

const tlsUrl = (user: string, query: string, host = '127.0.0.1', port = tlsServer?.port) =>
  `mysql://${user}@${host}:${port}/mysql?${query}`;

describe('MySQL/MariaDB TLS against real servers (MySQL ssl-mode names)', () => {
  it('VERIFY_IDENTITY with the right CA connects over TLS', async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const db = open(tlsUrl('tls_required', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`));
    assert.match(await sessionTls(db), /^TLSv1\.[23]$/);
  });

  it('a REQUIRE SSL user is refused without TLS, so every success above was TLS', async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    await assert.rejects(open(tlsUrl('tls_required', 'ssl-mode=DISABLED')).query('SELECT 1'), /Access denied/);
  });

  it('VERIFY_IDENTITY with a host name the certificate does not carry fails CONFIG_INVALID, at once and without opening the breaker', async (t) => {
    if (pki === undefined || otherName === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const db = open(tlsUrl('tls_required', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`, '127.0.0.2', otherName.port), {
      initializationTimeoutMs: 60_000,
    });
    const atStart = await spillwayRejection(db.ready());
    assert.equal(atStart.code, 'CONFIG_INVALID');
    assert.match(atStart.message, /certificate verification failed/);
    assert.match(atStart.message, /ssl-mode=VERIFY_IDENTITY/);
    assert.match(atStart.message, /127\.0\.0\.2/);
    for (let i = 0; i < 7; i++) assert.equal((await spillwayRejection(db.query('SELECT 1'))).code, 'CONFIG_INVALID');
    assert.equal(db.circuit()?.state, 'closed');
  });

  it('VERIFY_CA checks the chain, not the host name; an unrelated CA fails CONFIG_INVALID', async (t) => {
    if (pki === undefined || otherName === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const db = open(tlsUrl('tls_required', `ssl-mode=VERIFY_CA&ssl-ca=${pki.caCert}`, '127.0.0.2', otherName.port));
    assert.match(await sessionTls(db), /^TLSv1/);
    const error = await spillwayRejection(open(tlsUrl('tls_required', `ssl-mode=VERIFY_CA&ssl-ca=${pki.otherCaCert}`)).query('SELECT 1'));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /certificate verification failed/);
  });

  it('ssl-ca alone means VERIFY_CA (MySQL client rule)', async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    assert.match(await sessionTls(open(tlsUrl('tls_required', `ssl-ca=${pki.caCert}`))), /^TLSv1/);
    const error = await spillwayRejection(open(tlsUrl('tls_required', `ssl-ca=${pki.otherCaCert}`)).query('SELECT 1'));
    assert.match(error.message, /implied by ssl-ca/);
  });

  it('REQUIRED against a server without TLS fails CONFIG_INVALID; PREFERRED falls back to plaintext there and uses TLS where offered', async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const plain = `mysql://plain@127.0.0.1:${plainServer?.port}/mysql`;
    const error = await spillwayRejection(open(`${plain}?ssl-mode=REQUIRED`, { initializationTimeoutMs: 60_000 }).ready());
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /ssl-mode=REQUIRED requires TLS, but the server at 127\.0\.0\.1:\d+ does not offer it/);
    assert.equal(await sessionTls(open(`${plain}?ssl-mode=PREFERRED`)), '');
    assert.match(await sessionTls(open(tlsUrl('tls_required', 'ssl-mode=PREFERRED'))), /^TLSv1/);
    // REQUIRED encrypts without verifying anything.
    assert.match(await sessionTls(open(tlsUrl('tls_required', 'ssl-mode=REQUIRED'))), /^TLSv1/);
  });

  it('a client certificate satisfies REQUIRE SUBJECT, from files or with an encrypted key and tls.password', async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const base = tlsUrl('x509_user', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`);
    assert.match(await sessionTls(open(`${base}&ssl-cert=${pki.clientCert}&ssl-key=${pki.clientKey}`)), /^TLSv1/);
    const encrypted = open(base, { tls: { cert: pki.clientCert, key: pki.clientKeyEncrypted, password: pki.clientKeyPassphrase } });
    assert.match(await sessionTls(encrypted), /^TLSv1/);
    await assert.rejects(open(base).query('SELECT 1'), /Access denied/);
  });

  it("spillway doctor reads TLS, its protocol and cipher from SHOW STATUS LIKE 'Ssl_%'", async (t) => {
    if (pki === undefined) return t.skip('no throwaway MariaDB: MariaDB unreachable or mariadbd not installed');
    const url = tlsUrl('tls_required', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${pki.caCert}`);
    const facts = await gatherFacts(resolveConfig({ url, env: {} }), {});
    assert.deepEqual([facts.tls, facts.tlsMode, facts.tlsVerify], [true, 'ssl-mode=VERIFY_IDENTITY', 'chain-and-host']);
    assert.match(facts.tlsVersion ?? '', /^TLSv1\.[23]$/);
    assert.ok((facts.tlsCipher ?? '').length > 0);
    const plain = await gatherFacts(resolveConfig({ url: `mysql://plain@127.0.0.1:${plainServer?.port}/mysql`, env: {} }), {});
    assert.deepEqual([plain.tls, plain.tlsVersion], [false, undefined]);
  });
});
