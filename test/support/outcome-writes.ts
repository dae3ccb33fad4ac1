import { createPool, type Database } from '../../src/index.js';
import type { ChaosProxy } from './chaos-proxy.js';
import { uniqueName } from './databases.js';

/** Settings of the outcome scenarios: short timeouts, so a fault cycle takes about a second. */
export const OUTCOME_SETTINGS = {
  size: 4,
  maxOverflow: 4,
  checkoutTimeoutMs: 1000,
  statementTimeoutMs: 500,
  connectTimeoutMs: 500,
  leakThresholdMs: 0,
  circuit: { failureThreshold: 5, recoveryTimeoutMs: 300 },
  env: {},
} as const;

/** One failed write as its caller saw it. */
export interface FailedWrite {
  id: number;
  code: string;
  outcome: string | undefined;
}

export interface WritesResult {
  attempted: number;
  acked: number[];
  failed: FailedWrite[];
  cycles: number;
}

/**
 * Writers insert increasing ids (never reused) through `proxy` while it cycles through faults: a
 * blackhole whose held bytes arrive late ('delay'), one that loses them ('drop'), a reset of every
 * connection. Each cycle lets traffic pass for a while first. The table must refuse ids below 1. Runs until at least `minWrites` were
 * attempted and `minCycles` cycles done; every write's fate is kept for the check against the table.
 */
export async function writeThroughFaults(
  db: Database,
  proxy: ChaosProxy,
  table: string,
  options: {
    writers: number;
    minWrites: number;
    minCycles: number;
    passMs: number;
    faultMs: number;
    retry?: boolean;
    /** Runs once after the fault cycles while the writers still write (traffic passing). */
    lastly?: () => Promise<void>;
  },
): Promise<WritesResult> {
  const result: WritesResult = { attempted: 0, acked: [], failed: [], cycles: 0 };
  let nextId = 1;
  let stop = false;
  const text = `INSERT INTO ${table} (id) VALUES (${db.dialect.placeholder(1)})`;
  const writer = async (): Promise<void> => {
    while (!stop) {
      // One write in 25 breaks the table's CHECK (id > 0): the server refuses it, 'rejected'.
      const id = nextId % 25 === 0 ? -nextId++ : nextId++;
      result.attempted++;
      try {
        if (options.retry) await db.query(text, [id], { retry: { attempts: 30, backoffMs: 20, maxBackoffMs: 200, deadlineMs: 6000 } });
        else await db.query(text, [id]);
        result.acked.push(id);
      } catch (error) {
        const { code, outcome } = error as { code?: unknown; outcome?: string };
        result.failed.push({ id, code: String(code), outcome });
        await new Promise((resolve) => setTimeout(resolve, 5)); // no hot loop while everything fails at once
      }
    }
  };
  const writers = Array.from({ length: options.writers }, writer);
  const faults = [() => proxy.blackhole('delay'), () => proxy.blackhole('drop'), () => proxy.resetAll()];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  while (result.attempted < options.minWrites || result.cycles < options.minCycles) {
    await sleep(options.passMs);
    faults[result.cycles % faults.length]?.();
    await sleep(options.faultMs);
    proxy.pass();
    result.cycles++;
  }
  await sleep(options.passMs);
  await options.lastly?.();
  stop = true;
  await Promise.all(writers);
  return result;
}

/** What the table holds per id, read directly from the server (never through the proxy). */
export async function presentCounts(admin: Database, table: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ id: number | string; n: number | string }>(`SELECT id, COUNT(*) AS n FROM ${table} GROUP BY id`);
  return new Map(rows.map((r) => [Number(r.id), Number(r.n)]));
}

/** Failed writes whose outcome the table contradicts: a 'not-sent' or 'rejected' write that is there, or no outcome at all. */
export function misclassified(failed: readonly FailedWrite[], present: Map<number, number>): FailedWrite[] {
  return failed.filter((f) => {
    if (f.outcome === 'unknown') return false;
    if (f.outcome === 'not-sent' || f.outcome === 'rejected') return present.has(f.id);
    return true;
  });
}

/** Failed writes by outcome and by code, for the diagnostics and docs/resilience.md. */
export function tally(failed: readonly FailedWrite[]): { outcomes: Record<string, number>; codes: Record<string, number> } {
  const outcomes: Record<string, number> = {};
  const codes: Record<string, number> = {};
  for (const f of failed) {
    outcomes[String(f.outcome)] = (outcomes[String(f.outcome)] ?? 0) + 1;
    codes[f.code] = (codes[f.code] ?? 0) + 1;
  }
  return { outcomes, codes };
}

/** A direct pool (not through any proxy) for setup and checks. */
export function adminPool(url: string): Database {
  return createPool({ url, name: uniqueName('outcome_admin'), size: 2, maxOverflow: 0, multiplex: false, env: {} });
}
