import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback } from '../../src/cli/doctor/facts.js';
import { type DoctorFacts, diagnose } from '../../src/cli/doctor/findings.js';

function facts(overrides: Partial<DoctorFacts> = {}, pool: Partial<DoctorFacts['pool']> = {}): DoctorFacts {
  return {
    dialect: 'postgres',
    host: '127.0.0.1',
    port: 5432,
    loopback: true,
    tls: false,
    serverVersion: '15.8',
    maxConnections: 100,
    reservedConnections: 3,
    connectionsInUse: 10,
    serverPort: 5432,
    poolerDeclared: false,
    unsetTimeoutVariables: [],
    ...overrides,
    pool: {
      size: 10,
      maxOverflow: 10,
      podCount: 1,
      connectionBudget: undefined,
      checkoutTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 5_000,
      ...pool,
    },
  };
}

const find = (f: DoctorFacts, check: string) => diagnose(f).findings.filter((x) => x.check === check);

test('doctor: size + overflow across the pods beyond the server budget is critical, with recommendPoolSize', () => {
  const { findings, recommendation } = diagnose(facts({}, { podCount: 6 })); // 20 x 6 = 120 > 97
  const budget = findings.find((f) => f.check === 'budget')!;
  assert.equal(budget.severity, 'critical');
  assert.match(budget.message, /= 120 exceeds the 97/);
  assert.deepEqual(recommendation, { size: 11, maxOverflow: 5, perPodMax: 16, totalMax: 96 });
  assert.match(budget.message, /size 11, maxOverflow 5/);
});

test('doctor: a fitting budget is ok, one near the limit a warning', () => {
  assert.equal(find(facts(), 'budget')[0]!.severity, 'ok');
  assert.equal(find(facts({}, { podCount: 4 }), 'budget')[0]!.severity, 'warning'); // 80 of 97
});

test('doctor: a configured DB_MAX_CONNECTIONS_BUDGET is checked too', () => {
  assert.equal(find(facts({}, { connectionBudget: 15 }), 'budget')[0]!.severity, 'critical');
});

test('doctor: TLS off is critical on a non-loopback host and fine on loopback', () => {
  assert.equal(find(facts({ host: 'db.example.com', loopback: false }), 'tls')[0]!.severity, 'critical');
  assert.equal(find(facts(), 'tls')[0]!.severity, 'ok');
  assert.equal(find(facts({ host: 'db.example.com', loopback: false, tls: true }), 'tls')[0]!.severity, 'ok');
});

test('doctor: an encrypted session shows protocol, cipher and mode; unverified TLS to a remote host is a warning', () => {
  const encrypted = { host: 'db.example.com', loopback: false, tls: true, tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384' };
  const verified = find(facts({ ...encrypted, tlsMode: 'sslmode=verify-full', tlsVerify: 'chain-and-host' }), 'tls')[0]!;
  assert.equal(verified.severity, 'ok');
  assert.match(verified.message, /TLSv1\.3, TLS_AES_256_GCM_SHA384; sslmode=verify-full; certificate and host name verified/);
  const unverified = find(facts({ ...encrypted, tlsMode: 'sslmode=require', tlsVerify: 'none' }), 'tls')[0]!;
  assert.equal(unverified.severity, 'warning');
  assert.match(unverified.message, /man in the middle.*sslmode=verify-full/);
  // On loopback nobody sits in between.
  assert.equal(find(facts({ tls: true, tlsMode: 'sslmode=require', tlsVerify: 'none' }), 'tls')[0]!.severity, 'ok');
  const mysqlOff = find(
    facts({ dialect: 'mysql', host: 'db.example.com', loopback: false, tls: false, tlsMode: 'ssl-mode=DISABLED' }),
    'tls',
  )[0]!;
  assert.equal(mysqlOff.severity, 'critical');
  assert.match(mysqlOff.message, /ssl-mode=DISABLED.*ssl-mode=VERIFY_IDENTITY/);
});

test('doctor: timeouts at 0 are warnings; unset ones are listed as info', () => {
  const timeouts = find(facts({ unsetTimeoutVariables: ['DB_LOCK_TIMEOUT'] }, { statementTimeoutMs: 0 }), 'timeouts');
  assert.ok(timeouts.some((f) => f.severity === 'warning' && /statementTimeoutMs is 0/.test(f.message)));
  assert.ok(timeouts.some((f) => f.severity === 'info' && /DB_LOCK_TIMEOUT/.test(f.message)));
});

test('doctor: a pooler in front (server port differs, or Supavisor) is a warning unless ?pgbouncer=true says so', () => {
  const behind = facts({ port: 6432, serverPort: 5432 });
  assert.equal(find(behind, 'pooler')[0]!.severity, 'warning');
  assert.equal(find({ ...behind, poolerDeclared: true }, 'pooler')[0]!.severity, 'ok');
  assert.equal(
    find(facts({ host: 'aws-0-eu.pooler.supabase.com', loopback: false, tls: true, port: 6543, serverPort: 6543 }), 'pooler')[0]!.severity,
    'warning',
  );
  // Behind a pooler the server's max_connections does not bound this pool's client connections.
  assert.equal(find(facts({ port: 6432, serverPort: 5432 }, { podCount: 50 }), 'budget')[0]!.severity, 'info');
  assert.equal(find(facts(), 'pooler')[0]!.severity, 'ok');
});

test('doctor: loopback hosts', () => {
  assert.ok(isLoopback('localhost') && isLoopback('127.0.0.1') && isLoopback('127.1.2.3') && isLoopback('::1'));
  assert.ok(!isLoopback('10.0.0.1') && !isLoopback('db.example.com'));
});
