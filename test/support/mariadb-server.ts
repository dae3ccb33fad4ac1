import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freeLoopbackPort, waitForPort } from './ports.js';

const run = promisify(execFile);
const INSTALL_DB = process.env.SPILLWAY_MARIADB_INSTALL_DB ?? 'mariadb-install-db';
const SERVER = process.env.SPILLWAY_MARIADBD ?? '/usr/sbin/mariadbd';

/** How a throwaway server differs from the defaults. */
export interface TempMariadbOptions {
  /** Serve TLS with this certificate and key; `ca` verifies client certificates (--ssl-ca). */
  tls?: { cert: string; key: string; ca: string };
}

/** Whether the MariaDB binaries for a throwaway server are installed. */
export function mariadbBinariesPresent(): boolean {
  return existsSync(SERVER);
}

/**
 * A throwaway MariaDB server on a free loopback port, its data in a temp dir, for tests that must
 * configure the server (TLS); the shared server on 3306 is never touched. `stop()` removes it all.
 * Small buffers and no doublewrite keep start-up around a second or two.
 */
export class TempMariadb {
  readonly dir: string;
  readonly port: number;
  readonly socket: string;
  readonly #process: ChildProcess;

  private constructor(dir: string, port: number, child: ChildProcess) {
    this.dir = dir;
    this.port = port;
    this.socket = join(dir, 'mysqld.sock');
    this.#process = child;
  }

  static async start(options: TempMariadbOptions = {}): Promise<TempMariadb> {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-mariadb-'));
    // Its own tmpdir: servers bootstrapping side by side must not share temporary table files.
    mkdirSync(join(dir, 'tmp'));
    const asRoot = process.getuid?.() === 0;
    let server: TempMariadb | undefined;
    try {
      await run(
        INSTALL_DB,
        [
          '--no-defaults',
          `--datadir=${join(dir, 'data')}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          `--tmpdir=${join(dir, 'tmp')}`,
          '--innodb-log-file-size=8M',
          ...(asRoot ? ['--user=root'] : []),
        ],
        { timeout: 60_000 },
      );
      const port = await freeLoopbackPort();
      const args = [
        '--no-defaults',
        ...(asRoot ? ['--user=root'] : []),
        `--datadir=${join(dir, 'data')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'mysqld.sock')}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        `--log-error=${join(dir, 'error.log')}`,
        `--tmpdir=${join(dir, 'tmp')}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
        '--innodb-doublewrite=0',
        '--skip-log-bin',
        ...(options.tls === undefined
          ? ['--skip-ssl']
          : [`--ssl-cert=${options.tls.cert}`, `--ssl-key=${options.tls.key}`, `--ssl-ca=${options.tls.ca}`]),
      ];
      const child = spawn(SERVER, args, { stdio: 'ignore' });
      server = new TempMariadb(dir, port, child);
      const exited = new Promise<never>((_, reject) =>
        child.once('exit', (code) => reject(new Error(`mariadbd exited with ${code}: ${server?.errorLog() ?? ''}`))),
      );
      exited.catch(() => undefined);
      await Promise.race([waitForPort(port, 60_000), exited]);
      return server;
    } catch (error) {
      if (server !== undefined) await server.stop();
      else rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A URL for `user` over TCP on 127.0.0.1 (extra query parameters appended). */
  url(user = 'root', query = ''): string {
    return `mysql://${user}@127.0.0.1:${this.port}/mysql${query === '' ? '' : `?${query}`}`;
  }

  /** Run administrative statements as root over the server's socket (never TLS, never TCP). */
  async admin(statements: readonly string[]): Promise<void> {
    const connection = await mysql.createConnection({ socketPath: this.socket, user: 'root' });
    try {
      for (const statement of statements) await connection.query(statement);
    } finally {
      await connection.end();
    }
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  }

  /** Stop the server (SIGTERM, then SIGKILL after 20 s) and remove its files. */
  async stop(): Promise<void> {
    const child = this.#process;
    try {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true, maxRetries: 5 });
    }
  }
}
