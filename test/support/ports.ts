import net from 'node:net';

/**
 * A loopback port that was free a moment ago: for servers a test starts, or (left unused) a port
 * where connections are refused at once, standing in for a database that is down.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
