import type { Client, ClientConfig } from 'pg';
import { pingWithin } from '../../dialect/postgres/postgres-deadline.js';
import { useFastRowParser } from '../../dialect/postgres/postgres-row-parser.js';
import { ConnectionLostError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import { connectTimeoutError } from './pg-pool-errors.js';
import { attachState, cutClient, type PooledClientState, stateOf } from './pg-pooled-client.js';

/** A server that does not answer the goodbye within this is cut off (a blackholed network). */
const CLOSE_TIMEOUT_MS = 1000;

/** How the facade opens clients: what pg.Pool would do with the same config. */
export interface PgClientSettings {
  Client: new (config: ClientConfig) => Client;
  /** Passed to every new client, as pg.Pool passes its own options object. */
  clientConfig: ClientConfig;
  /** pg.Pool's bound on one connect (0: none); a client still connecting then is cut off. */
  connectionTimeoutMillis: number;
  onConnect: ((client: Client) => unknown) | undefined;
  /** pg.Pool's `log`: pg-pool's messages, and the error where pg-pool passes one. */
  log: (message: string, detail?: unknown) => void;
  /** Bound on a pre-ping (Spillway's `prePing`, off unless given). */
  pingTimeoutMs: number;
  /** Label for messages; never holds a password. */
  target: string;
  /**
   * Whether an error means the server connection is gone. The core then suspects every other client
   * (validated before its next checkout) and the breaker counts it; pg.Pool does neither, so the facade
   * classifies only when `prePing` or `circuit` is given.
   */
  isDisconnect: (error: unknown) => boolean;
}

/** What the pool learns from its clients' lives. */
export interface PgClientEvents {
  /** Connected and through `onConnect`, not yet lent: timers start and 'connect' is emitted. */
  opened(client: Client, state: PooledClientState): void;
  /** pg's 'error' event on a client; `drop` removes it from the core at once. */
  errored(client: Client, state: PooledClientState, error: unknown, drop: (error: unknown) => void): void;
  /** Removal begins, synchronously inside the core's close: timers stop, counters change. */
  closing(client: Client, state: PooledClientState): void;
  /** The client has ended: 'remove'. */
  closed(client: Client, state: PooledClientState): void;
}

/**
 * The facade's connector: clients made and connected exactly as pg-pool makes them (the pool's options
 * object handed to the Client class, `connect(callback)`, pg-pool's connect timeout and its error,
 * `onConnect` before the client is counted as connected), with the driver's errors passed through as
 * they are. It differs from pg-pool in one deliberate way: a client's error never crashes the process,
 * because a listener is attached from the start.
 */
export function createPgClientConnector(settings: PgClientSettings, events: PgClientEvents): Connector<Client> {
  return {
    target: settings.target,
    connect: (context) => connectClient(settings, events, context),
    async ping(client: Client): Promise<void> {
      await pingWithin(client, client.query(';'), settings.pingTimeoutMs);
    },
    // pg.Pool hands a client back as its holder left it.
    needsReset: () => false,
    reset: async () => undefined,
    close(client: Client): Promise<void> {
      const state = stateOf(client);
      events.closing(client, state);
      return new Promise<void>((resolve) => {
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          clearTimeout(backstop);
          events.closed(client, state);
          resolve();
        };
        const backstop = setTimeout(() => {
          cutClient(client);
          finish();
        }, CLOSE_TIMEOUT_MS);
        backstop.unref();
        try {
          // pg-pool's client.end(callback): pg cuts the socket itself when a query is still running.
          (client.end as (callback: () => void) => unknown)(finish);
        } catch {
          finish();
        }
      });
    },
    isDisconnect: settings.isDisconnect,
  };
}

function connectClient(settings: PgClientSettings, events: PgClientEvents, context: ConnectContext): Promise<Client> {
  const { log } = settings;
  return new Promise<Client>((resolve, reject) => {
    const client = new settings.Client(settings.clientConfig);
    const state = attachState(client);
    useFastRowParser(client);
    client.on('error', (error: unknown) => events.errored(client, state, error, context.onBroken));
    client.on('end', () => {
      // pg reports an unexpected end as an 'error' first; this catches a quiet end of an idle client.
      if (state.lease === undefined && !state.removed && state.brokenBy === undefined) {
        context.onBroken(new ConnectionLostError('PostgreSQL connection ended'));
      }
    });

    let settled = false;
    let timeoutHit = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      context.signal.removeEventListener('abort', abandon);
      return true;
    };
    // The core gave up on this attempt (pool closing): cut the socket now, quietly.
    const abandon = (): void => {
      if (!settle()) return;
      state.removed = true;
      cutClient(client);
      reject(context.signal.reason);
    };
    if (context.signal.aborted) {
      abandon();
      return;
    }
    context.signal.addEventListener('abort', abandon, { once: true });

    log('checking client timeout');
    if (settings.connectionTimeoutMillis > 0) {
      timer = setTimeout(() => {
        log('ending client due to timeout');
        timeoutHit = true;
        cutClient(client);
      }, settings.connectionTimeoutMillis);
    }

    const open = (): void => {
      if (!settle()) return;
      state.connected = true;
      events.opened(client, state);
      resolve(client);
    };
    const hookFailed = (error: unknown): void => {
      if (!settle()) return;
      state.removed = true;
      const finish = (): void => reject(error);
      try {
        (client.end as (callback: () => void) => unknown)(finish);
      } catch {
        finish();
      }
    };
    const connected = (error: unknown): void => {
      clearTimeout(timer);
      if (settled) return;
      if (error) {
        settle();
        state.removed = true;
        log('client failed to connect', error);
        reject(timeoutHit ? connectTimeoutError(error) : error);
        return;
      }
      log('new client connected');
      if (settings.onConnect === undefined) {
        open();
        return;
      }
      try {
        Promise.resolve(settings.onConnect(client)).then(open, hookFailed);
      } catch (hookError) {
        hookFailed(hookError);
      }
    };
    log('connecting new client');
    try {
      (client.connect as (callback: (error?: unknown) => void) => unknown)(connected);
    } catch (error) {
      connected(error ?? new Error('connect threw'));
    }
  });
}
