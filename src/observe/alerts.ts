import type { PoolEventMap } from '../pool/events.js';

/** One alert, as `db.on('alert', fn)` receives it. `at` is epoch milliseconds. */
export type Alert = PoolEventMap['alert'][0];

/** The built-in alert types and their severity. */
export const ALERT_SEVERITY = {
  database_unhealthy: 'critical',
  circuit_open: 'critical',
  query_failure_rate: 'critical',
  connection_leak: 'warning',
  pool_usage_high: 'warning',
  slow_queries: 'warning',
  slow_checkouts: 'warning',
} as const satisfies Record<string, Alert['severity']>;

export type AlertType = keyof typeof ALERT_SEVERITY;

const RECENT_LIMIT = 50;

/**
 * Raises alerts from conditions and events. A condition that stays true is one active alert, not one
 * per check; a type fires again only after `cooldownMs` (per type), so a flapping condition cannot
 * flood the operator. Every alert fired is kept in a bounded list of recent alerts.
 */
export class AlertManager {
  readonly #cooldownMs: number;
  readonly #emit: (alert: Alert) => void;
  readonly #now: () => number;
  readonly #active = new Map<AlertType, Alert>();
  readonly #lastFiredAt = new Map<AlertType, number>();
  readonly #recent: Alert[] = [];
  // Every type starts at 0 so the alerts counter has its series before the first alert (rate() works).
  readonly #counts: Record<string, number> = Object.fromEntries(Object.keys(ALERT_SEVERITY).map((type) => [type, 0]));

  constructor(cooldownMs: number, emit: (alert: Alert) => void, now: () => number = Date.now) {
    this.#cooldownMs = cooldownMs;
    this.#emit = emit;
    this.#now = now;
  }

  /** Set whether a condition holds now: it becomes active (firing unless in cooldown) or resolves. */
  condition(type: AlertType, holds: boolean, message: string): void {
    if (!holds) {
      this.#active.delete(type);
      return;
    }
    const current = this.#active.get(type);
    if (current !== undefined) {
      current.message = message;
      return;
    }
    const alert = this.#make(type, message);
    this.#active.set(type, alert);
    this.#fire(alert);
  }

  /** A one-off event (a leak): fires unless the type is in cooldown; never stays active. */
  event(type: AlertType, message: string): void {
    this.#fire(this.#make(type, message));
  }

  /** Alerts whose condition holds now. */
  active(): Alert[] {
    return [...this.#active.values()].map((a) => ({ ...a }));
  }

  /** The last alerts fired, newest first. */
  recent(): Alert[] {
    return this.#recent.map((a) => ({ ...a })).reverse();
  }

  /** Alerts fired by type since start. */
  counts(): Readonly<Record<string, number>> {
    return this.#counts;
  }

  #make(type: AlertType, message: string): Alert {
    return { type, severity: ALERT_SEVERITY[type], message, at: this.#now() };
  }

  #fire(alert: Alert): void {
    const type = alert.type as AlertType;
    const last = this.#lastFiredAt.get(type);
    if (last !== undefined && alert.at - last < this.#cooldownMs) return;
    this.#lastFiredAt.set(type, alert.at);
    this.#counts[type] = (this.#counts[type] ?? 0) + 1;
    this.#recent.push({ ...alert }); // a copy: the active alert's message may be updated later
    if (this.#recent.length > RECENT_LIMIT) this.#recent.shift();
    this.#emit({ ...alert });
  }
}
