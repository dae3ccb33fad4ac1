/**
 * A configuration value as an error message shows it: strings quoted, numbers as JavaScript writes
 * them (`Infinity`, `NaN`, where JSON would say `null`), other values as JSON or their type.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 'a function' : String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
