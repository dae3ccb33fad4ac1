import net from 'node:net';

/** How the proxy treats traffic right now. */
export type ChaosMode = 'pass' | 'blackhole';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
}

/**
 * A TCP proxy on loopback between a pool and its database, for fault tests and the fault benchmark.
 * - `pass`: bytes flow (after `latencyMs`, if set).
 * - `blackhole`: nothing flows either way and new connections hang, like a network that drops
 *   packets: sockets are paused, so what was sent waits in kernel buffers and arrives (late) when
 *   traffic passes again, as TCP retransmission would deliver it.
 * - `resetAll()`: every open connection is cut with a TCP RST on the client side.
 * Written here because no maintained npm package offers blackholing with late delivery.
 */
export class ChaosProxy {
  readonly #upstream: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #server: net.Server | undefined;
  #mode: ChaosMode = 'pass';
  /** Added one-way delay on every chunk, in both directions. */
  latencyMs = 0;
  port = 0;

  constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream;
  }

  /** Listen on 127.0.0.1 on a free port; resolves with that port. */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** A URL like `upstreamUrl` but through the proxy. */
  url(upstreamUrl: string): string {
    const url = new URL(upstreamUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  get mode(): ChaosMode {
    return this.#mode;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  blackhole(): void {
    this.#mode = 'blackhole';
    for (const pair of this.#pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  pass(): void {
    this.#mode = 'pass';
    for (const pair of this.#pairs) {
      if (pair.upstream === undefined) this.#connectUpstream(pair);
      pair.client.resume();
      pair.upstream?.resume();
    }
  }

  /** Cut every open connection: RST to the client, close towards the server. */
  resetAll(): void {
    for (const pair of [...this.#pairs]) this.#drop(pair, true);
  }

  async close(): Promise<void> {
    this.resetAll();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const pair: Pair = { client, upstream: undefined };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    client.on('error', () => this.#drop(pair, false));
    client.on('close', () => this.#drop(pair, false));
    client.on('data', (chunk) => this.#forward(pair, chunk, () => pair.upstream));
    if (this.#mode === 'blackhole') client.pause();
    else this.#connectUpstream(pair);
  }

  #connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.#upstream);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => this.#drop(pair, true));
    upstream.on('close', () => this.#drop(pair, false));
    upstream.on('data', (chunk) => this.#forward(pair, chunk, () => pair.client));
    if (this.#mode === 'blackhole') upstream.pause();
  }

  #forward(pair: Pair, chunk: Buffer, to: () => net.Socket | undefined): void {
    const write = (): void => {
      if (!this.#pairs.has(pair)) return;
      const target = to();
      if (target === undefined) return;
      target.write(chunk);
    };
    if (this.latencyMs > 0) setTimeout(write, this.latencyMs);
    else write();
  }

  #drop(pair: Pair, reset: boolean): void {
    if (!this.#pairs.delete(pair)) return;
    if (reset && !pair.client.destroyed) pair.client.resetAndDestroy();
    else pair.client.destroy();
    pair.upstream?.destroy();
  }
}
