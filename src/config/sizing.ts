import { ConfigError } from '../errors.js';

export interface PoolSizeRecommendation {
  /** Persistent connections per pod. */
  size: number;
  /** Overflow connections per pod. */
  maxOverflow: number;
  /** size + maxOverflow: the most one pod may hold. */
  perPodMax: number;
  /** perPodMax × podCount: never above the budget. */
  totalMax: number;
}

/**
 * Split a connection budget across pods, keeping `reserved` connections for admin tools and migrations.
 * Two thirds of each pod's share are persistent, one third overflow, as QueuePool's defaults suggest.
 *
 * @example recommendPoolSize({ budget: 100, podCount: 4, reserved: 10 }) // { size: 15, maxOverflow: 7, ... }
 */
export function recommendPoolSize(input: { budget: number; podCount?: number; reserved?: number }): PoolSizeRecommendation {
  const podCount = input.podCount ?? 1;
  const reserved = input.reserved ?? 0;
  if (!Number.isInteger(input.budget) || input.budget < 1) {
    throw new ConfigError('budget', `budget=${String(input.budget)} is invalid; accepted: a whole number of connections >= 1`);
  }
  if (!Number.isInteger(podCount) || podCount < 1) {
    throw new ConfigError('podCount', `podCount=${String(podCount)} is invalid; accepted: a whole number >= 1`);
  }
  if (!Number.isInteger(reserved) || reserved < 0) {
    throw new ConfigError('reserved', `reserved=${String(reserved)} is invalid; accepted: a whole number >= 0`);
  }
  const usable = input.budget - reserved;
  const perPodMax = Math.floor(usable / podCount);
  if (perPodMax < 1) {
    throw new ConfigError(
      'budget',
      `budget=${input.budget} (less ${reserved} reserved) is smaller than podCount=${podCount}; each pod needs at least one connection`,
    );
  }
  const size = Math.max(1, Math.ceil((perPodMax * 2) / 3));
  const maxOverflow = perPodMax - size;
  return { size, maxOverflow, perPodMax, totalMax: perPodMax * podCount };
}
