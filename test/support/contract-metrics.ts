/** The metric names of shared/CONTRACT.md "Metrics" (histograms without their _bucket/_sum/_count suffixes). */
export const CONTRACT_METRICS = [
  'db_client_connection_count',
  'db_client_connection_max',
  'db_client_connection_idle_max',
  'db_client_connection_idle_min',
  'db_client_connection_pending_requests',
  'db_client_connection_timeouts_total',
  'db_client_connection_create_time_seconds',
  'db_client_connection_wait_time_seconds',
  'db_client_connection_use_time_seconds',
  'db_client_operation_duration_seconds',
  'spillway_connections_overflow',
  'spillway_connections_created_total',
  'spillway_connections_closed_total',
  'spillway_leaks_detected_total',
  'spillway_circuit_state',
  'spillway_health_checks_total',
  'spillway_operation_failures_total',
  'spillway_alerts_total',
] as const;

/** Metric names used in a PromQL expression (identifiers followed by a selector, a range or an operator). */
export function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:db_client|spillway)_[a-z_]+)\b/g)].map((m) => m[1] as string);
}

/** Whether `name` is a contract metric or one of a contract histogram's series. */
export function isContractSeries(name: string): boolean {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return (CONTRACT_METRICS as readonly string[]).includes(name) || (CONTRACT_METRICS as readonly string[]).includes(base);
}

/** One sample's value from Prometheus text, by metric name and labels (undefined when absent). */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
