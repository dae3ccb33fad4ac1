import net from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a real server, which a test can freeze: the
 * connections open so far stay open but no byte passes and no close reaches the server, the way
 * a dead network link looks. Connections opened after the freeze pass normally.
 */
export interface TcpProxy {
  port: number;
  /** Cut the connections open now (in both directions, closes included). */
  freeze(): void;
  close(): Promise<void>;
}

/** `listenHost`: another loopback address (127.0.0.2) lets a test reach a server under a name its certificate does not carry. */
export async function startTcpProxy(targetHost: string, targetPort: number, listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<{ frozen: boolean }>();
  const server = net.createServer((client) => {
    const link = { frozen: false };
    links.add(link);
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => {
      if (!link.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.frozen) client.write(chunk);
    });
    client.on('close', () => {
      if (!link.frozen) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!link.frozen) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    freeze() {
      for (const link of links) link.frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
