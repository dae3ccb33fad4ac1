import net from 'node:net';
import type { Client } from 'pg';
import { ConnectionLostError, StatementTimeoutError } from '../../errors.js';
import { BACKSTOP_MARGIN_MS, withDeadline } from '../../resilience/deadline-sweeper.js';
import { destroySocket, hasActiveQuery } from './pg-internals.js';

/** The parts of pg's Client this file reaches into (not in @types/pg). */
interface PgClientInternals {
  processID: number | null;
  secretKey: number | null;
}

/** Where cancel requests go: the same host and port the client connected to. */
export interface CancelTarget {
  host: string;
  port: number | undefined;
}

const CANCEL_REQUEST_CODE = 80877102;
const CANCEL_TIMEOUT_MS = 2000;

/**
 * Ask the server to cancel the statement running on `client`'s backend. Written here rather than
 * pg's `Client.prototype.cancel` because that one has no timeout: on a blackholed network its socket
 * would hang forever. Best effort: never throws, gives up after 2 s.
 */
export function sendCancel(client: Client, target: CancelTarget): void {
  const { processID, secretKey } = client as unknown as PgClientInternals;
  if (processID === null || secretKey === null || target.host.startsWith('/')) return;
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  const socket = net.connect({ host: target.host, port: target.port ?? 5432 });
  socket.setTimeout(CANCEL_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.once('connect', () => socket.end(packet));
  socket.unref();
}

/** Cut the client's socket at once: pg then fails what is queued and reports the client ended. */
export function destroyClient(client: Client): void {
  destroySocket(client);
}

/** True while a statement runs (or waits to run) on the client. */
function busy(client: Client): boolean {
  return hasActiveQuery(client);
}

/**
 * Close a client, but never wait more than `ms` for a server that does not answer the goodbye.
 * A statement still running (close after the grace period) is cancelled first: cutting the socket
 * alone would leave the server working on it until it next tries to write.
 */
export async function closeClient(client: Client, ms: number, target: CancelTarget): Promise<void> {
  if (busy(client)) sendCancel(client, target);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      destroyClient(client);
      resolve();
    }, ms);
    timer.unref();
  });
  await Promise.race([client.end().catch(() => undefined), late]);
  clearTimeout(timer);
}

/**
 * The client-side backstop of a statement: when the server has not answered within its timeout plus
 * a margin (a blackholed network: the server-side statement_timeout cannot reach us), fail with
 * STATEMENT_TIMEOUT marked `connectionUnusable` (so the connection is discarded), cut the socket and
 * send a cancel so the server stops the work if it can still hear us.
 */
export function statementBackstop<T>(client: Client, work: Promise<T>, timeoutMs: number, target: CancelTarget): Promise<T> {
  return withDeadline(
    work,
    timeoutMs + BACKSTOP_MARGIN_MS,
    () => backstopError(timeoutMs),
    () => abandonStatement(client, target),
  );
}

/** The error of a statement the server did not answer within its timeout plus the margin. */
export function backstopError(timeoutMs: number): StatementTimeoutError {
  return new StatementTimeoutError(timeoutMs, {
    message: `Statement timed out after ${timeoutMs}ms: no answer from the server within ${timeoutMs + BACKSTOP_MARGIN_MS}ms; connection discarded`,
    connectionUnusable: true,
    outcome: 'unknown',
  });
}

/** Give up on the statement running on `client`: ask the server to cancel it, and cut the socket. */
export function abandonStatement(client: Client, target: CancelTarget): void {
  sendCancel(client, target);
  destroyClient(client);
}

/** A ping bounded by `timeoutMs`: a connection that does not answer in time is lost. */
export function pingWithin<T>(client: Client, work: Promise<T>, timeoutMs: number): Promise<T> {
  return withDeadline(
    work,
    timeoutMs,
    () =>
      new ConnectionLostError(`PostgreSQL connection did not answer a ping within ${timeoutMs}ms`, {
        connectionUnusable: true,
        outcome: 'not-sent',
      }),
    () => destroyClient(client),
  );
}
