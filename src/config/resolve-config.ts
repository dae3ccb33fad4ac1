import { ConfigError } from '../errors.js';
import { resolveMultiplex } from './multiplex-config.js';
import { OBSERVE_OPTION_NAMES, resolveObserveOptions } from './observe-options.js';
import type { PoolOptions, ResolvedConfig } from './options.js';
import { profileDefaults } from './profiles.js';
import { showValue } from './show-value.js';
import { recommendPoolSize } from './sizing.js';
import { describeTls, resolveTls } from './tls-config.js';
import { parseConnectionUrl, passwordFromUrl, redactUrl } from './url.js';

type Env = Record<string, string | undefined>;

/** One numeric setting: its option name, its environment variable and how the variable is written. */
interface NumericSetting {
  option: string;
  env: string | undefined;
  /** 'seconds': env is seconds and the option milliseconds; 'count': both whole numbers. */
  unit: 'seconds' | 'count';
  min: number;
  /** Largest accepted value (milliseconds for durations); see MAX_DURATION_MS and MAX_CONNECTIONS. */
  max?: number;
}

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days): a longer timer fires at once. */
const MAX_DURATION_MS = 2_147_483_647;
/**
 * Most connections one pool may hold (size, and overflow on top). Far above any server's sensible
 * limit (PostgreSQL's default max_connections is 100, MySQL's 151): a larger value is a typo.
 */
export const MAX_CONNECTIONS = 10_000;

const NUMERIC_SETTINGS = {
  size: { option: 'size', env: 'DB_POOL_SIZE', unit: 'count', min: 1, max: MAX_CONNECTIONS },
  maxOverflow: { option: 'maxOverflow', env: 'DB_MAX_OVERFLOW', unit: 'count', min: 0, max: MAX_CONNECTIONS },
  minIdle: { option: 'minIdle', env: 'DB_POOL_MIN_IDLE', unit: 'count', min: 0 },
  checkoutTimeoutMs: { option: 'checkoutTimeoutMs', env: 'DB_POOL_TIMEOUT', unit: 'seconds', min: 0 },
  recycleMs: { option: 'recycleMs', env: 'DB_POOL_RECYCLE', unit: 'seconds', min: 0 },
  idleTimeoutMs: { option: 'idleTimeoutMs', env: 'DB_POOL_IDLE_TIMEOUT', unit: 'seconds', min: 0 },
  prePingBypassMs: { option: 'prePingBypassMs', env: undefined, unit: 'seconds', min: 0 },
  connectTimeoutMs: { option: 'connectTimeoutMs', env: 'DB_CONNECT_TIMEOUT', unit: 'seconds', min: 1 },
  statementTimeoutMs: { option: 'statementTimeoutMs', env: 'DB_STATEMENT_TIMEOUT', unit: 'seconds', min: 0 },
  lockTimeoutMs: { option: 'lockTimeoutMs', env: 'DB_LOCK_TIMEOUT', unit: 'seconds', min: 0 },
  leakThresholdMs: { option: 'leakThresholdMs', env: 'DB_LEAK_THRESHOLD', unit: 'seconds', min: 0 },
  maxUses: { option: 'maxUses', env: undefined, unit: 'count', min: 0 },
  failureThreshold: { option: 'circuit.failureThreshold', env: 'DB_CIRCUIT_FAILURE_THRESHOLD', unit: 'count', min: 1 },
  recoveryTimeoutMs: { option: 'circuit.recoveryTimeoutMs', env: 'DB_CIRCUIT_RECOVERY_TIMEOUT', unit: 'seconds', min: 1 },
  healthCheckIntervalMs: { option: 'healthCheckIntervalMs', env: 'DB_HEALTH_CHECK_INTERVAL', unit: 'seconds', min: 0 },
  podCount: { option: 'podCount', env: 'POD_COUNT', unit: 'count', min: 1 },
  connectionBudget: { option: 'connectionBudget', env: 'DB_MAX_CONNECTIONS_BUDGET', unit: 'count', min: 1 },
  housekeepingIntervalMs: { option: 'housekeepingIntervalMs', env: undefined, unit: 'seconds', min: 10 },
  initializationTimeoutMs: { option: 'initializationTimeoutMs', env: 'DB_POOL_INIT_TIMEOUT', unit: 'seconds', min: 0 },
} as const satisfies Record<string, NumericSetting>;

type NumericKey = keyof typeof NUMERIC_SETTINGS;

const KNOWN_OPTIONS = new Set<string>([
  'url',
  'name',
  'prePing',
  'leakAction',
  'leakStackTraces',
  'circuit',
  'serverPooler',
  'password',
  'env',
  'dialectOptions',
  'tls',
  'multiplex',
  ...OBSERVE_OPTION_NAMES,
  ...Object.values(NUMERIC_SETTINGS)
    .map((s) => s.option)
    .filter((o) => !o.includes('.')),
]);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * Resolve the configuration once, at the edge: options win over environment, which wins over
 * the profile defaults. Every invalid value throws CONFIG_INVALID naming the variable; nothing is
 * silently corrected. The result is frozen.
 */
export function resolveConfig(options: PoolOptions = {}): ResolvedConfig {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', 'createPool(options): options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new ConfigError(key, `Unknown option "${key}"; accepted: ${[...KNOWN_OPTIONS].sort().join(', ')}`);
    }
  }
  const env: Env = options.env ?? process.env;
  const profile = profileDefaults(env.NODE_ENV);
  if (
    options.circuit !== undefined &&
    (options.circuit === null || typeof options.circuit !== 'object' || Array.isArray(options.circuit))
  ) {
    throw new ConfigError('circuit', `circuit=${showValue(options.circuit)} is invalid; accepted: { failureThreshold, recoveryTimeoutMs }`);
  }
  const circuitOptions = (options.circuit ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(circuitOptions)) {
    if (key !== 'failureThreshold' && key !== 'recoveryTimeoutMs') {
      throw new ConfigError(
        `circuit.${key}`,
        `Unknown option "circuit.${key}"; accepted: circuit.failureThreshold, circuit.recoveryTimeoutMs`,
      );
    }
  }

  const explicitly = new Set<NumericKey>();
  const numeric = (key: NumericKey, fallback: number | undefined): number | undefined => {
    const setting: NumericSetting = NUMERIC_SETTINGS[key];
    const optionValue = setting.option.startsWith('circuit.')
      ? circuitOptions[setting.option.slice('circuit.'.length)]
      : (options as Record<string, unknown>)[setting.option];
    if (optionValue !== undefined) {
      explicitly.add(key);
      return checkNumber(setting.option, optionValue, setting, setting.unit === 'seconds' ? 'milliseconds' : 'a whole number');
    }
    const envValue = setting.env === undefined ? undefined : env[setting.env];
    if (envValue !== undefined && envValue.trim() !== '') {
      explicitly.add(key);
      const parsed = Number(envValue.trim());
      const name = setting.env as string;
      // A sign is read (so -1 is reported as out of range, not as "not a number"); exponents are not.
      if (!/^[-+]?[0-9]+(\.[0-9]+)?$/.test(envValue.trim()) || !Number.isFinite(parsed)) {
        throw new ConfigError(
          name,
          `${name}="${envValue}" is not a number; accepted: ${setting.unit === 'seconds' ? 'seconds (for example 30 or 0.5)' : 'a whole number'} >= ${setting.min === 0 ? 0 : setting.unit === 'seconds' ? setting.min / 1000 : setting.min}`,
        );
      }
      if (setting.unit === 'seconds') {
        return checkNumber(name, Math.round(parsed * 1000), setting, 'seconds', parsed);
      }
      return checkNumber(name, parsed, setting, 'a whole number');
    }
    return fallback;
  };

  const d = profile.defaults;
  if (options.url !== undefined && typeof options.url !== 'string') {
    throw new ConfigError(
      'url',
      `url=${showValue(options.url)} is invalid; accepted: a connection URL string such as postgres://user@host/db`,
    );
  }
  const url = options.url ?? env.DATABASE_URL;
  if (url === undefined || url.trim() === '') {
    throw new ConfigError(
      'DATABASE_URL',
      'DATABASE_URL (or option url) is required; for example postgres://user@localhost:5432/app or sqlite:./data/app.db',
    );
  }
  const target = parseConnectionUrl(url, options.url !== undefined ? 'url' : 'DATABASE_URL');

  const name = options.name ?? env.DB_POOL_NAME ?? 'default';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,63}$/.test(name)) {
    throw new ConfigError(
      options.name !== undefined ? 'name' : 'DB_POOL_NAME',
      `${options.name !== undefined ? 'name' : 'DB_POOL_NAME'}="${String(name)}" is invalid; accepted: 1 to 63 letters, digits, _ . : -`,
    );
  }

  let size = numeric('size', d.size) as number;
  let maxOverflow = numeric('maxOverflow', d.maxOverflow) as number;
  if (explicitly.has('maxOverflow') && !explicitly.has('size')) {
    throw new ConfigError(
      options.maxOverflow !== undefined ? 'maxOverflow' : 'DB_MAX_OVERFLOW',
      `${options.maxOverflow !== undefined ? 'maxOverflow' : 'DB_MAX_OVERFLOW'} is set without ${options.maxOverflow !== undefined ? 'size' : 'DB_POOL_SIZE'}; overflow is counted on top of the pool size, so set both`,
    );
  }
  const minIdle = numeric('minIdle', d.minIdle) as number;
  const podCount = numeric('podCount', d.podCount) as number;
  const connectionBudget = numeric('connectionBudget', undefined);
  if (connectionBudget !== undefined) {
    const budgetName = options.connectionBudget !== undefined ? 'connectionBudget' : 'DB_MAX_CONNECTIONS_BUDGET';
    if (connectionBudget < podCount) {
      throw new ConfigError(
        budgetName,
        `${budgetName}=${connectionBudget} is smaller than the pod count (${podCount}); each pod needs at least one connection`,
      );
    }
    const perPod = Math.floor(connectionBudget / podCount);
    if (size + maxOverflow > perPod) {
      if (explicitly.has('size') || explicitly.has('maxOverflow')) {
        throw new ConfigError(
          budgetName,
          `size (${size}) + maxOverflow (${maxOverflow}) = ${size + maxOverflow} per pod exceeds ${budgetName}=${connectionBudget} across ${podCount} pods (${perPod} per pod); lower them or raise the budget`,
        );
      }
      const recommended = recommendPoolSize({ budget: connectionBudget, podCount });
      size = recommended.size;
      maxOverflow = recommended.maxOverflow;
    }
  }
  if (minIdle > size) {
    const minIdleName = options.minIdle !== undefined ? 'minIdle' : 'DB_POOL_MIN_IDLE';
    throw new ConfigError(minIdleName, `${minIdleName}=${minIdle} is larger than size=${size}; accepted: 0 to size`);
  }

  let prePing = d.prePing;
  if (options.prePing !== undefined) {
    if (typeof options.prePing !== 'boolean')
      throw new ConfigError('prePing', `prePing=${String(options.prePing)} is invalid; accepted: true or false`);
    prePing = options.prePing;
  } else if (env.DB_POOL_PRE_PING !== undefined && env.DB_POOL_PRE_PING.trim() !== '') {
    const word = env.DB_POOL_PRE_PING.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) prePing = true;
    else if (FALSE_WORDS.has(word)) prePing = false;
    else
      throw new ConfigError(
        'DB_POOL_PRE_PING',
        `DB_POOL_PRE_PING="${env.DB_POOL_PRE_PING}" is invalid; accepted: true, false, 1, 0, yes, no, on, off`,
      );
  }

  const leakStackTraces = options.leakStackTraces ?? 'adaptive';
  if (leakStackTraces !== 'adaptive' && leakStackTraces !== 'always') {
    throw new ConfigError('leakStackTraces', `leakStackTraces="${String(leakStackTraces)}" is invalid; accepted: adaptive, always`);
  }
  const leakAction = options.leakAction ?? 'warn';
  if (leakAction !== 'warn' && leakAction !== 'reclaim') {
    throw new ConfigError('leakAction', `leakAction="${String(leakAction)}" is invalid; accepted: warn, reclaim`);
  }

  let serverPooler: 'none' | 'transaction' = 'none';
  if (options.serverPooler !== undefined) {
    if (options.serverPooler !== 'none' && options.serverPooler !== 'transaction') {
      throw new ConfigError('serverPooler', `serverPooler="${String(options.serverPooler)}" is invalid; accepted: none, transaction`);
    }
    serverPooler = options.serverPooler;
  } else if (target.params.pgbouncer !== undefined) {
    const word = target.params.pgbouncer.toLowerCase();
    if (TRUE_WORDS.has(word)) serverPooler = 'transaction';
    else if (!FALSE_WORDS.has(word))
      throw new ConfigError('pgbouncer', `?pgbouncer=${target.params.pgbouncer} in the URL is invalid; accepted: true or false`);
  }

  const password = options.password;
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function') {
    throw new ConfigError('password', 'password must be a string or a function returning one (or a promise of one)');
  }
  const dialectOptions = options.dialectOptions ?? {};
  if (typeof dialectOptions !== 'object' || dialectOptions === null) {
    throw new ConfigError('dialectOptions', 'dialectOptions must be an object');
  }

  const tls = resolveTls(options.tls, target, env);
  const observe = resolveObserveOptions(options);

  return Object.freeze({
    ...observe,
    url,
    target: Object.freeze(target),
    name,
    profile: profile.name,
    size,
    maxOverflow,
    minIdle,
    checkoutTimeoutMs: numeric('checkoutTimeoutMs', d.checkoutTimeoutMs) as number,
    recycleMs: numeric('recycleMs', d.recycleMs) as number,
    idleTimeoutMs: numeric('idleTimeoutMs', d.idleTimeoutMs) as number,
    prePing,
    prePingBypassMs: numeric('prePingBypassMs', d.prePingBypassMs) as number,
    connectTimeoutMs: numeric('connectTimeoutMs', d.connectTimeoutMs) as number,
    statementTimeoutMs: numeric('statementTimeoutMs', d.statementTimeoutMs) as number,
    lockTimeoutMs: numeric('lockTimeoutMs', d.lockTimeoutMs) as number,
    leakThresholdMs: numeric('leakThresholdMs', d.leakThresholdMs) as number,
    leakAction,
    leakStackTraces,
    maxUses: numeric('maxUses', d.maxUses) as number,
    circuit: Object.freeze({
      failureThreshold: numeric('failureThreshold', d.failureThreshold) as number,
      recoveryTimeoutMs: numeric('recoveryTimeoutMs', d.recoveryTimeoutMs) as number,
    }),
    healthCheckIntervalMs: numeric('healthCheckIntervalMs', d.healthCheckIntervalMs) as number,
    podCount,
    connectionBudget,
    housekeepingIntervalMs: numeric('housekeepingIntervalMs', d.housekeepingIntervalMs) as number,
    initializationTimeoutMs: numeric('initializationTimeoutMs', d.initializationTimeoutMs) as number,
    serverPooler,
    password,
    dialectOptions: Object.freeze({ ...dialectOptions }),
    tls,
    multiplex: resolveMultiplex(options.multiplex, env),
  });
}

function checkNumber(name: string, value: unknown, setting: NumericSetting, accepted: string, shown: unknown = value): number {
  const isWhole = setting.unit === 'count';
  const max = setting.max ?? (setting.unit === 'seconds' ? MAX_DURATION_MS : Number.MAX_SAFE_INTEGER);
  if (typeof value !== 'number' || !Number.isFinite(value) || (isWhole && !Number.isInteger(value)) || value < setting.min || value > max) {
    const inSeconds = accepted === 'seconds';
    const minShown = inSeconds ? setting.min / 1000 : setting.min;
    const maxShown = inSeconds ? Math.floor(max / 1000) : max;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${minShown}` : `from ${minShown} to ${maxShown}`;
    throw new ConfigError(name, `${name}=${showValue(shown)} is invalid; accepted: ${accepted} ${range}`);
  }
  return value;
}

/** The effective configuration as safe to show: password and URL secrets as ***; live objects summarised. */
export function describeConfig(config: ResolvedConfig): Record<string, unknown> {
  const { password, url, target, logger, metrics, tracing, dialectOptions, tls, ...rest } = config;
  return {
    ...rest,
    url: redactUrl(url),
    dialect: target.dialect,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: password === undefined && passwordFromUrl(url) === undefined ? undefined : '***',
    dialectOptions: redactSecrets(dialectOptions),
    tls: describeTls(tls),
    logger: logger !== undefined,
    metrics: { enabled: metrics.enabled, registry: metrics.registry === undefined ? 'default' : 'custom' },
    tracing: { enabled: tracing.enabled, tracerProvider: tracing.tracerProvider === undefined ? 'global' : 'custom' },
  };
}

const SECRET_KEY = /pass|secret|token|key|cert|credential/i;

/** Driver options may carry TLS keys or passwords: show such keys as ***. */
function redactSecrets(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) shown[key] = '***';
    else if (inner !== null && typeof inner === 'object' && !Array.isArray(inner))
      shown[key] = redactSecrets(inner as Record<string, unknown>);
    else shown[key] = typeof inner === 'string' ? redactUrl(inner) : inner;
  }
  return shown;
}
