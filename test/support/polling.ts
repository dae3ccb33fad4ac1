import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll until `check` holds; fails after `boundMs`, which is generous because the machine is shared
 * (the bound only decides how long a broken test takes to fail).
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, boundMs = 20_000): Promise<void> {
  const until = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`never happened within ${boundMs} ms: ${what}`);
    await sleep(20);
  }
}

/**
 * A TCP server on loopback that hands every connection to `onSocket` (by default it says nothing: a
 * server that accepts and never answers; or it can drop the socket at once).
 */
export async function fakeServer(
  onSocket: (socket: net.Socket) => void = () => undefined,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
