import { isIP } from 'node:net';
import type { ResolvedConfig } from '../../config/options.js';
import { modeLabel } from '../../config/tls-config.js';
import { createPool } from '../../create-pool.js';
import type { Database } from '../../database.js';
import type { DoctorFacts } from './findings.js';

const TIMEOUT_VARIABLES = ['DB_POOL_TIMEOUT', 'DB_CONNECT_TIMEOUT', 'DB_STATEMENT_TIMEOUT', 'DB_LOCK_TIMEOUT'];

/** True for localhost and loopback addresses (127.0.0.0/8, ::1), where TLS adds nothing. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

type Row = Record<string, unknown>;

const num = (value: unknown): number | undefined => (value === null || value === undefined || value === '' ? undefined : Number(value));

/**
 * Connect with a one-connection probe pool and read what the doctor needs from the server.
 * `config` is the pool as the app would configure it; the probe itself never touches those sizes.
 */
export async function gatherFacts(config: ResolvedConfig, env: Record<string, string | undefined>): Promise<DoctorFacts> {
  const probe = createPool({
    url: config.url,
    password: config.password,
    size: 1,
    maxOverflow: 0,
    connectTimeoutMs: 10_000,
    checkoutTimeoutMs: 15_000,
    // TLS as the app has it: the URL's sslmode/ssl-mode, else libpq's environment (and ~/.postgresql).
    env: {
      NODE_ENV: env.NODE_ENV,
      HOME: env.HOME,
      PGSSLMODE: env.PGSSLMODE,
      PGSSLROOTCERT: env.PGSSLROOTCERT,
      PGSSLCERT: env.PGSSLCERT,
      PGSSLKEY: env.PGSSLKEY,
    },
  });
  try {
    const server = await readServer(probe);
    return {
      dialect: config.target.dialect,
      host: config.target.host,
      port: config.target.port,
      loopback: config.target.dialect === 'sqlite' || isLoopback(config.target.host),
      tlsMode: config.target.dialect === 'sqlite' ? undefined : modeLabel(probe.config.tls),
      tlsVerify: config.target.dialect === 'sqlite' || probe.config.tls.mode === 'disable' ? undefined : probe.config.tls.verify,
      poolerDeclared: config.serverPooler === 'transaction',
      pool: {
        size: config.size,
        maxOverflow: config.maxOverflow,
        podCount: config.podCount,
        connectionBudget: config.connectionBudget,
        checkoutTimeoutMs: config.checkoutTimeoutMs,
        connectTimeoutMs: config.connectTimeoutMs,
        statementTimeoutMs: config.statementTimeoutMs,
        lockTimeoutMs: config.lockTimeoutMs,
      },
      unsetTimeoutVariables: TIMEOUT_VARIABLES.filter((v) => env[v] === undefined || env[v]?.trim() === ''),
      ...server,
    };
  } finally {
    await probe.close();
  }
}

type ServerFacts = Pick<
  DoctorFacts,
  | 'tls'
  | 'tlsVersion'
  | 'tlsCipher'
  | 'serverVersion'
  | 'maxConnections'
  | 'reservedConnections'
  | 'connectionsInUse'
  | 'serverPort'
  | 'journalMode'
>;

async function readServer(db: Database): Promise<ServerFacts> {
  switch (db.dialect.name) {
    case 'postgres':
      return readPostgres(db);
    case 'mysql':
      return readMysql(db);
    default:
      return readSqlite(db);
  }
}

async function readPostgres(db: Database): Promise<ServerFacts> {
  // reserved_connections exists from PostgreSQL 16; current_setting(..., true) gives NULL before.
  const { rows } = await db.query<Row>(
    `SELECT current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int AS superuser_reserved,
            coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
            (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use,
            inet_server_port() AS server_port,
            current_setting('server_version') AS version,
            ssl.ssl, ssl.version AS tls_version, ssl.cipher AS tls_cipher
       FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl AS ssl ON ssl.pid = pg_backend_pid()`,
  );
  const row = rows[0] ?? {};
  return {
    maxConnections: num(row.max_connections),
    reservedConnections: (num(row.superuser_reserved) ?? 0) + (num(row.reserved) ?? 0),
    connectionsInUse: num(row.in_use),
    serverPort: num(row.server_port),
    serverVersion: row.version === undefined ? undefined : String(row.version),
    tls: row.ssl === null || row.ssl === undefined ? undefined : Boolean(row.ssl),
    tlsVersion: row.tls_version === null || row.tls_version === undefined ? undefined : String(row.tls_version),
    tlsCipher: row.tls_cipher === null || row.tls_cipher === undefined ? undefined : String(row.tls_cipher),
  };
}

async function readMysql(db: Database): Promise<ServerFacts> {
  const { rows } = await db.query<Row>('SELECT @@max_connections AS max_connections, @@port AS server_port, VERSION() AS version');
  const status = await db.query<Row>("SHOW SESSION STATUS WHERE Variable_name IN ('Threads_connected', 'Ssl_cipher', 'Ssl_version')");
  const value = (name: string): string | undefined => {
    const found = status.rows.find((r) => r.Variable_name === name)?.Value;
    return found === undefined || found === null ? undefined : String(found);
  };
  const row = rows[0] ?? {};
  return {
    maxConnections: num(row.max_connections),
    // MySQL and MariaDB keep one extra connection for SUPER on top of max_connections.
    reservedConnections: 0,
    connectionsInUse: num(value('Threads_connected')),
    serverPort: num(row.server_port),
    serverVersion: row.version === undefined ? undefined : String(row.version),
    tls: value('Ssl_cipher') === undefined ? undefined : String(value('Ssl_cipher')) !== '',
    tlsVersion: value('Ssl_version') || undefined,
    tlsCipher: value('Ssl_cipher') || undefined,
  };
}

async function readSqlite(db: Database): Promise<ServerFacts> {
  const { rows } = await db.query<Row>('SELECT sqlite_version() AS version');
  const journal = await db.query<Row>('PRAGMA journal_mode');
  return {
    maxConnections: undefined,
    reservedConnections: 0,
    connectionsInUse: undefined,
    serverPort: undefined,
    serverVersion: rows[0]?.version === undefined ? undefined : String(rows[0].version),
    tls: undefined,
    journalMode: journal.rows[0]?.journal_mode === undefined ? undefined : String(journal.rows[0].journal_mode),
  };
}
