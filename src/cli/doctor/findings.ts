import type { DialectName } from '../../config/options.js';
import { type PoolSizeRecommendation, recommendPoolSize } from '../../config/sizing.js';

export type Severity = 'critical' | 'warning' | 'info' | 'ok';

/** One thing the doctor found. A critical finding makes `spillway doctor` exit non-zero. */
export interface Finding {
  severity: Severity;
  check: string;
  message: string;
}

/** What the doctor learned about the database and the pool configuration (gathered by facts.ts). */
export interface DoctorFacts {
  dialect: DialectName;
  host: string;
  /** The port the URL points at. */
  port: number | undefined;
  loopback: boolean;
  /** Whether this session is encrypted; undefined when it cannot be known (SQLite). */
  tls: boolean | undefined;
  /** The session's TLS protocol and cipher as the server reports them (pg_stat_ssl, Ssl_version/Ssl_cipher). */
  tlsVersion?: string | undefined;
  tlsCipher?: string | undefined;
  /** The configured mode as its setting spells it (`sslmode=verify-full`), and what it verifies of the server. */
  tlsMode?: string | undefined;
  tlsVerify?: 'none' | 'chain' | 'chain-and-host' | undefined;
  serverVersion: string | undefined;
  maxConnections: number | undefined;
  /** Connections the server keeps for superusers, unavailable to the app. */
  reservedConnections: number;
  connectionsInUse: number | undefined;
  /** The port the database server itself listens on; differs from `port` behind a proxy or pooler. */
  serverPort: number | undefined;
  /** The URL or options declare a transaction-mode pooler (?pgbouncer=true). */
  poolerDeclared: boolean;
  /** The pool as the app would configure it (options over environment over profile). */
  pool: {
    size: number;
    maxOverflow: number;
    podCount: number;
    connectionBudget: number | undefined;
    checkoutTimeoutMs: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    lockTimeoutMs: number;
  };
  /** Timeout environment variables the operator did not set (the profile default applies). */
  unsetTimeoutVariables: string[];
  /** SQLite only: the journal mode. */
  journalMode?: string | undefined;
}

const TIMEOUTS = [
  ['checkoutTimeoutMs', 'DB_POOL_TIMEOUT', 'a caller can wait forever for a connection'],
  ['connectTimeoutMs', 'DB_CONNECT_TIMEOUT', 'opening a connection to an unreachable server can hang'],
  ['statementTimeoutMs', 'DB_STATEMENT_TIMEOUT', 'a runaway query holds its connection forever'],
  ['lockTimeoutMs', 'DB_LOCK_TIMEOUT', 'a statement can wait forever on a row lock'],
] as const;

/** Known hosted poolers by host name or port (Supabase's Supavisor on 6543, PgBouncer's usual 6432). */
function poolerHint(facts: DoctorFacts): string | undefined {
  if (/pooler\.supabase\.com$/i.test(facts.host)) return `${facts.host} is Supabase's Supavisor pooler`;
  if (facts.serverPort !== undefined && facts.port !== undefined && facts.serverPort !== facts.port) {
    return `the URL points at port ${facts.port} but the server listens on ${facts.serverPort}: a pooler or proxy sits in front`;
  }
  if (facts.port === 6543 || facts.port === 6432) return `port ${facts.port} is the usual port of a server pooler (Supavisor, PgBouncer)`;
  return undefined;
}

/**
 * Judge the gathered facts. Pure, so every rule is tested without a database.
 * Severities: critical (will fail in production), warning (risky), info (worth knowing), ok.
 */
export function diagnose(facts: DoctorFacts): { findings: Finding[]; recommendation: PoolSizeRecommendation | undefined } {
  const findings: Finding[] = [];
  const add = (severity: Severity, check: string, message: string) => findings.push({ severity, check, message });
  const { pool } = facts;
  const perPod = pool.size + pool.maxOverflow;
  const total = perPod * pool.podCount;
  let recommendation: PoolSizeRecommendation | undefined;

  if (facts.serverVersion !== undefined) add('info', 'server', `${facts.dialect} ${facts.serverVersion}`);

  // Connection budget: the server's limit and how much of it is taken now.
  if (facts.maxConnections !== undefined) {
    const available = facts.maxConnections - facts.reservedConnections;
    const inUse = facts.connectionsInUse;
    const usePct = inUse === undefined ? undefined : Math.round((inUse / facts.maxConnections) * 100);
    add(
      usePct !== undefined && usePct >= 80 ? 'warning' : 'info',
      'max_connections',
      `server allows ${facts.maxConnections} connections (${facts.reservedConnections} reserved for superusers); ${inUse ?? '?'} in use now${usePct === undefined ? '' : ` (${usePct}%)`}`,
    );
    const budget = pool.connectionBudget ?? available;
    if (budget >= pool.podCount) recommendation = recommendPoolSize({ budget, podCount: pool.podCount });
    const advice =
      recommendation === undefined
        ? ''
        : `; recommendPoolSize for ${budget} across ${pool.podCount} pod(s): size ${recommendation.size}, maxOverflow ${recommendation.maxOverflow}`;
    const demand = `size ${pool.size} + maxOverflow ${pool.maxOverflow} = ${perPod} per pod x ${pool.podCount} pod(s) = ${total}`;
    if (facts.poolerDeclared || poolerHint(facts) !== undefined) {
      add(
        'info',
        'budget',
        `${demand} client connections to the pooler; the pooler, not this pool, bounds server connections (server allows ${available})`,
      );
    } else if (total > available) {
      add('critical', 'budget', `${demand} exceeds the ${available} the server can give${advice}`);
    } else if (pool.connectionBudget !== undefined && total > pool.connectionBudget) {
      add('critical', 'budget', `${demand} exceeds DB_MAX_CONNECTIONS_BUDGET=${pool.connectionBudget}${advice}`);
    } else if (total > available * 0.8) {
      add(
        'warning',
        'budget',
        `${demand} is over 80% of the ${available} the server can give; a rolling deploy (old and new pods at once) or an admin tool will not fit${advice}`,
      );
    } else {
      add('ok', 'budget', `${demand} fits the ${available} the server can give`);
    }
  } else if (facts.dialect === 'sqlite') {
    add('info', 'budget', `SQLite has no connection limit; size ${pool.size} + maxOverflow ${pool.maxOverflow} per process`);
  }

  // Timeouts: zero means no limit; unset means the profile default, which is fine but worth saying.
  for (const [option, variable, risk] of TIMEOUTS) {
    if (pool[option] === 0) add('warning', 'timeouts', `${option} is 0 (${variable}=0): no limit; ${risk}`);
  }
  if (facts.unsetTimeoutVariables.length > 0) {
    add('info', 'timeouts', `not set, profile defaults apply: ${facts.unsetTimeoutVariables.join(', ')}`);
  }

  // Transport security: is the session encrypted, with what, and is the server's certificate checked.
  const mode = facts.tlsMode === undefined ? '' : ` (${facts.tlsMode})`;
  const strict = facts.dialect === 'mysql' ? 'ssl-mode=VERIFY_IDENTITY with ssl-ca' : 'sslmode=verify-full with sslrootcert';
  if (facts.tls === false && !facts.loopback) {
    add(
      'critical',
      'tls',
      `TLS is off to ${facts.host}${mode}, a non-loopback host: queries and results cross the network in clear text (use ${strict})`,
    );
  } else if (facts.tls === false) {
    add('ok', 'tls', `TLS off${mode}, acceptable on loopback (${facts.host})`);
  } else if (facts.tls === true) {
    const how = [facts.tlsVersion, facts.tlsCipher].filter((v) => v !== undefined && v !== '').join(', ');
    const checked =
      facts.tlsVerify === 'chain-and-host'
        ? 'certificate and host name verified'
        : facts.tlsVerify === 'chain'
          ? 'certificate chain verified, host name not'
          : facts.tlsVerify === 'none'
            ? 'certificate not verified'
            : undefined;
    const detail = [how, facts.tlsMode, checked].filter((v) => v !== undefined && v !== '').join('; ');
    if (facts.tlsVerify === 'none' && !facts.loopback) {
      add(
        'warning',
        'tls',
        `encrypted (${detail}), but nothing proves ${facts.host} is the server: a man in the middle could read it (use ${strict})`,
      );
    } else add('ok', 'tls', `the connection is encrypted (${detail})`);
  }

  // Server pooler in front.
  const hint = poolerHint(facts);
  if (hint !== undefined && !facts.poolerDeclared) {
    add('warning', 'pooler', `${hint}; if it runs in transaction mode add ?pgbouncer=true so no session state is relied on`);
  } else if (hint !== undefined) {
    add('ok', 'pooler', `${hint}; transaction mode is declared (?pgbouncer=true)`);
  } else if (facts.poolerDeclared) {
    add('info', 'pooler', 'transaction-mode pooler declared (?pgbouncer=true) but none detected; harmless, but session features stay off');
  } else if (facts.dialect !== 'sqlite') {
    add('ok', 'pooler', 'no server pooler detected; the app connects to the database directly');
  }

  if (facts.dialect === 'sqlite' && facts.journalMode !== undefined && facts.journalMode.toLowerCase() !== 'wal') {
    add('warning', 'sqlite', `journal_mode is ${facts.journalMode}; WAL lets readers run while a write is in progress`);
  }
  return { findings, recommendation };
}
