import { resolveConfig } from '../../config/resolve-config.js';
import { ConfigError } from '../../errors.js';
import { intFlag, parseCommand, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { gatherFacts } from '../doctor/facts.js';
import { diagnose, type Finding } from '../doctor/findings.js';
import { renderTable } from '../output.js';

const spec = {
  name: 'doctor',
  options: {
    url: { type: 'string' },
    pods: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: spillway doctor --url URL [--pods N] [--json]

Connect to the database and check the pool configuration (DB_* environment) against it. Each finding
has a severity (critical, warning, info, ok):
  - the server's max_connections and how many are in use now
  - whether size + maxOverflow across the pods fits the server's budget, with recommendPoolSize's answer
  - timeouts set to 0 (no limit) or left at their defaults
  - TLS: on or off, its protocol and cipher, and what the mode verifies; off, or unverified, to a
    non-loopback host (the probe uses the URL's sslmode/ssl-mode, else PGSSLMODE and the PGSSL* files)
  - a server pooler (PgBouncer, Supavisor) in front, and whether ?pgbouncer=true says so

  --url URL     the database (default: DATABASE_URL)
  --pods N      app instances sharing the database (default: POD_COUNT or 1)
  --json        print {"findings": [...], "recommendation": ...} as JSON
  -h, --help    show this help

Exit status: 0 no critical finding, 1 a critical finding (or no connection), 2 bad usage.`,
} as const;

/** `spillway doctor`: connect, gather facts, judge them, print the findings. */
export const doctorCommand: Command = {
  name: spec.name,
  async run(argv) {
    const parsed = parseCommand(spec, argv);
    if (parsed === undefined) return 0;
    const { values } = parsed;
    const url = values.url ?? process.env.DATABASE_URL;
    if (url === undefined) throw new UsageError('spillway doctor: --url is required (or set DATABASE_URL)');
    const pods = values.pods === undefined ? undefined : intFlag('doctor', 'pods', values.pods, 1, 1);

    let findings: Finding[];
    let recommendation: unknown;
    try {
      const config = resolveConfig({ url, ...(pods === undefined ? {} : { podCount: pods }) });
      ({ findings, recommendation } = diagnose(await gatherFacts(config, process.env)));
    } catch (error) {
      if (!(error instanceof ConfigError) || error.variable === 'url' || error.variable === 'DATABASE_URL') throw error;
      // A configuration the pool would refuse (budget exceeded, bad DB_* value) is itself the finding.
      findings = [{ severity: 'critical', check: 'config', message: error.message }];
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ findings, recommendation }, null, 2)}\n`);
    else
      process.stdout.write(
        `${renderTable(
          ['severity', 'check', 'finding'],
          findings.map((f) => [f.severity, f.check, f.message]),
        )}\n`,
      );
    return findings.some((f) => f.severity === 'critical') ? 1 : 0;
  },
};
