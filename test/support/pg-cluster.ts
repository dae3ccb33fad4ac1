import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from './ports.js';

const run = promisify(execFile);
const BIN = process.env.SPILLWAY_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Run a PostgreSQL binary as the `postgres` OS user when we are root (initdb refuses root). */
function asPostgres(binary: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const path = join(BIN, binary);
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', path, ...args], { timeout: 60_000 });
  return run(path, args, { timeout: 60_000 });
}

/** PIDs whose parent is `pid` (the postmaster's backends and workers), from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** How a throwaway cluster differs from initdb's defaults. */
export interface TempPostgresOptions {
  /** Serve TLS (ssl=on) with this certificate and key; `ca` (ssl_ca_file) verifies client certificates. */
  tls?: { cert: string; key: string; ca?: string };
  /** pg_hba.conf lines replacing the default (trust for every local and host connection). */
  hba?: readonly string[];
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port, from the system's binaries, for tests that
 * kill or restart the server (the shared server on 5432 is never touched). `stop()` removes it all.
 */
export class TempPostgres {
  readonly dir: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** initdb (trust, no fsync: the data is thrown away; committed writes still survive kill -9) and start. */
  static async start(options: TempPostgresOptions = {}): Promise<TempPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-pg-'));
    try {
      if (process.getuid?.() === 0) chownSync(dir, ...postgresIds());
      await asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
      configure(join(dir, 'data'), options);
      const cluster = new TempPostgres(dir, await freeLoopbackPort());
      await cluster.restart();
      return cluster;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Start (again, after a kill: PostgreSQL runs crash recovery) and wait until it accepts connections. */
  async restart(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 -c shared_buffers=16MB`;
    await asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', '-t', '60', 'start']);
  }

  /**
   * kill -9 the postmaster and every backend: the server vanishes mid-statement. Resolves once they
   * are dead, with the stale postmaster.pid removed (a killed process may linger as a zombie if
   * nothing reaps it, and PostgreSQL would take that for a live postmaster).
   */
  async kill9(): Promise<void> {
    const pid = this.#postmasterPid();
    if (pid === undefined) return;
    // Line 7 of postmaster.pid: the SysV shared memory key and id, removed below so kills leak nothing.
    const shmId = readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8')
      .split('\n')[6]
      ?.trim()
      .split(/\s+/)[1];
    const all = [pid, ...childrenOf(pid)];
    for (const victim of all) {
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const until = Date.now() + 10_000;
    while (all.some(alive) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    rmSync(join(this.dir, 'data', 'postmaster.pid'), { force: true });
    rmSync(join(this.dir, `.s.PGSQL.${this.port}.lock`), { force: true });
    rmSync(join(this.dir, `.s.PGSQL.${this.port}`), { force: true });
    if (shmId !== undefined && /^\d+$/.test(shmId)) await run('ipcrm', ['-m', shmId]).catch(() => undefined);
  }

  async stop(): Promise<void> {
    try {
      if (this.#postmasterPid() !== undefined) {
        await asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => this.kill9());
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  #postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }
}

/** TLS files copied into the data directory (the server wants its key private and its own), pg_hba.conf replaced. */
function configure(data: string, options: TempPostgresOptions): void {
  const owned = (path: string, mode: number): void => {
    chmodSync(path, mode);
    if (process.getuid?.() === 0) chownSync(path, ...postgresIds());
  };
  if (options.tls !== undefined) {
    const files: [string, string | undefined][] = [
      ['server.crt', options.tls.cert],
      ['server.key', options.tls.key],
      ['root.crt', options.tls.ca],
    ];
    for (const [name, source] of files) {
      if (source === undefined) continue;
      copyFileSync(source, join(data, name));
      owned(join(data, name), 0o600);
    }
    const lines = ['ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"];
    if (options.tls.ca !== undefined) lines.push("ssl_ca_file = 'root.crt'");
    appendFileSync(join(data, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
  }
  if (options.hba !== undefined) {
    writeFileSync(join(data, 'pg_hba.conf'), `${options.hba.join('\n')}\n`);
    owned(join(data, 'pg_hba.conf'), 0o600);
  }
}

/** Running and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function postgresIds(): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('no postgres OS user to run the throwaway cluster');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}
