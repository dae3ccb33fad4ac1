export type DialectName = 'postgres' | 'mysql' | 'sqlite';

/** The parsed connection target. The password is kept apart so it cannot leak through toString. */
export interface ConnectionTarget {
  dialect: DialectName;
  host: string;
  port: number | undefined;
  user: string | undefined;
  database: string | undefined;
  /** SQLite file path or ':memory:'. */
  filename: string | undefined;
  params: Readonly<Record<string, string>>;
  /** The URL with the password replaced by ***. Safe to log. */
  redactedUrl: string;
}
