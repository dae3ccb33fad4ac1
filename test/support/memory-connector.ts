import type { ConnectContext, Connector } from '../../src/pool/connector.js';

/** A fake connection: the real pool talks to it instead of a database (scheduling tests only). */
export interface MemoryConnection {
  id: number;
  open: boolean;
  inTransaction: boolean;
  broken: ((error: unknown) => void) | undefined;
  /** Borrowers currently holding it (must never exceed 1). */
  holders: number;
}

export interface MemoryConnectorOptions {
  connectDelayMs?: number;
  failConnect?: () => unknown | undefined;
  failPing?: (connection: MemoryConnection) => boolean;
  /**
   * While it returns true, a new connect attempt is swallowed by the "network" (a blackhole): it never
   * answers, even after the fault ends, until the pool aborts it.
   */
  hangConnect?: () => boolean;
  /** While it returns true, a ping is swallowed by the "network": it never answers. */
  hangPing?: () => boolean;
}

/**
 * In-memory connector for unit tests of the pool core: there is no database to be real here,
 * only the pool's scheduling, which this exercises through the same interface a dialect implements.
 */
export class MemoryConnector implements Connector<MemoryConnection> {
  readonly target = 'memory://test';
  readonly connections: MemoryConnection[] = [];
  pings = 0;
  resets = 0;
  /** Connect attempts neither answered nor aborted yet (each would be a socket). */
  pendingConnects = 0;
  /** The most sockets (open connections plus pending attempts) seen at once. */
  maxSockets = 0;
  /** Attempts the pool aborted. */
  aborted = 0;
  #nextId = 1;
  options: MemoryConnectorOptions;

  constructor(options: MemoryConnectorOptions = {}) {
    this.options = options;
  }

  get openCount(): number {
    return this.connections.filter((c) => c.open).length;
  }

  async connect(context: ConnectContext): Promise<MemoryConnection> {
    this.pendingConnects++;
    this.maxSockets = Math.max(this.maxSockets, this.pendingConnects + this.openCount);
    // An abort cuts the socket at once (synchronously), as the real dialects do.
    let counted = true;
    const uncount = (): void => {
      if (counted) this.pendingConnects--;
      counted = false;
    };
    context.signal.addEventListener('abort', uncount, { once: true });
    try {
      return await this.#connect(context, uncount);
    } finally {
      context.signal.removeEventListener('abort', uncount);
      uncount();
    }
  }

  async #connect(context: ConnectContext, answered: () => void): Promise<MemoryConnection> {
    // A swallowed attempt never answers; a slow one answers after connectDelayMs. Either ends at once
    // when the pool aborts it, as a cut socket would.
    const hang = this.options.hangConnect?.() === true;
    if (hang || this.options.connectDelayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = hang ? undefined : setTimeout(done, this.options.connectDelayMs);
        function done(): void {
          context.signal.removeEventListener('abort', onAbort);
          resolve();
        }
        const onAbort = (): void => {
          clearTimeout(timer);
          this.aborted++;
          reject(new Error('connect attempt aborted'));
        };
        if (context.signal.aborted) onAbort();
        else context.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    const failure = this.options.failConnect?.();
    if (failure !== undefined) throw failure;
    answered(); // the attempt becomes a connection in the same instant
    const connection: MemoryConnection = { id: this.#nextId++, open: true, inTransaction: false, broken: context.onBroken, holders: 0 };
    this.connections.push(connection);
    return connection;
  }

  async ping(connection: MemoryConnection): Promise<void> {
    this.pings++;
    if (this.options.hangPing?.() === true) return new Promise<void>(() => undefined);
    if (!connection.open || this.options.failPing?.(connection)) {
      const error = new Error('ping failed') as Error & { code: string };
      error.code = 'ECONNRESET';
      throw error;
    }
  }

  needsReset(connection: MemoryConnection): boolean {
    return connection.inTransaction;
  }

  async reset(connection: MemoryConnection): Promise<void> {
    this.resets++;
    connection.inTransaction = false;
  }

  async close(connection: MemoryConnection): Promise<void> {
    connection.open = false;
  }

  isDisconnect(error: unknown): boolean {
    return (error as { code?: string } | null)?.code === 'ECONNRESET';
  }

  /** Simulate the server ending a connection on its own. */
  kill(connection: MemoryConnection): void {
    connection.open = false;
    const error = new Error('Connection terminated unexpectedly') as Error & { code: string };
    error.code = 'ECONNRESET';
    connection.broken?.(error);
  }
}

/** Core settings for tests: small, fast, no pre-ping unless asked. */
export function testSettings(overrides: Partial<import('../../src/pool/pool.js').CorePoolSettings> = {}) {
  return {
    name: 'test',
    size: 2,
    maxOverflow: 1,
    minIdle: 0,
    checkoutTimeoutMs: 1000,
    recycleMs: 0,
    idleTimeoutMs: 0,
    prePing: false,
    prePingBypassMs: 500,
    connectTimeoutMs: 1000,
    maxUses: 0,
    housekeepingIntervalMs: 60_000,
    ...overrides,
  };
}
