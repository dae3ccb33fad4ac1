import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, waitForPort } from './ports.js';

export const PGBOUNCER_BIN = process.env.SPILLWAY_TEST_PGBOUNCER ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** postgres:// URL through PgBouncer, with ?pgbouncer=true. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Start a real PgBouncer in transaction mode on a free loopback port, in front of the PostgreSQL
 * of `upstreamUrl`. Its files live in a temp dir removed by stop(). PgBouncer refuses to run as
 * root, so under root it drops to `nobody` (-u).
 */
export async function startPgBouncer(upstreamUrl: string, poolSize = 4): Promise<PgBouncer> {
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const database = upstream.pathname.slice(1) || 'postgres';
  const port = await freeLoopbackPort();
  const dir = await mkdtemp(join(tmpdir(), 'spillway-pgbouncer-'));
  await chmod(dir, 0o755);
  const ini = join(dir, 'pgbouncer.ini');
  await writeFile(join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  await writeFile(
    ini,
    [
      '[databases]',
      `${database} = host=${upstream.hostname} port=${upstream.port || 5432} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 500',
      `default_pool_size = ${poolSize}`,
      'server_reset_query =',
      'ignore_startup_parameters = extra_float_digits',
      'logfile =',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', ini] : [ini];
  const child: ChildProcess = spawn(PGBOUNCER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 5000);
  } catch (error) {
    await stop();
    throw new Error(`PgBouncer did not start: ${stderr.trim() || String(error)}`);
  }
  const auth = upstream.username ? `${upstream.username}${upstream.password ? `:${upstream.password}` : ''}@` : '';
  return { url: `postgres://${auth}127.0.0.1:${port}/${database}?pgbouncer=true`, port, stop };
}

/** True when the PgBouncer binary is installed here. */
export function pgBouncerInstalled(): boolean {
  return existsSync(PGBOUNCER_BIN);
}
