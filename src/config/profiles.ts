/**
 * Profile defaults: the bottom layer under environment and options.
 * NODE_ENV=production selects `production`; anything else selects `development`.
 * Both follow the contract's table; development differs only where a developer benefits
 * (leaks are reported sooner, so a forgotten release shows up while coding).
 */
export interface ProfileDefaults {
  size: number;
  maxOverflow: number;
  minIdle: number;
  checkoutTimeoutMs: number;
  recycleMs: number;
  idleTimeoutMs: number;
  prePing: boolean;
  prePingBypassMs: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  leakThresholdMs: number;
  maxUses: number;
  failureThreshold: number;
  recoveryTimeoutMs: number;
  healthCheckIntervalMs: number;
  podCount: number;
  housekeepingIntervalMs: number;
  initializationTimeoutMs: number;
}

const PRODUCTION: ProfileDefaults = Object.freeze({
  size: 10,
  maxOverflow: 10,
  minIdle: 0,
  checkoutTimeoutMs: 30_000,
  recycleMs: 1_800_000,
  idleTimeoutMs: 300_000,
  prePing: true,
  prePingBypassMs: 500,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5_000,
  leakThresholdMs: 60_000,
  maxUses: 0,
  failureThreshold: 5,
  recoveryTimeoutMs: 30_000,
  healthCheckIntervalMs: 30_000,
  podCount: 1,
  housekeepingIntervalMs: 30_000,
  initializationTimeoutMs: 30_000,
});

const DEVELOPMENT: ProfileDefaults = Object.freeze({ ...PRODUCTION });

export function profileDefaults(nodeEnv: string | undefined): { name: 'production' | 'development'; defaults: ProfileDefaults } {
  return nodeEnv === 'production' ? { name: 'production', defaults: PRODUCTION } : { name: 'development', defaults: DEVELOPMENT };
}
