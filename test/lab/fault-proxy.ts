// A TCP proxy on a loopback address that sits between the daemon and a guest's sshd, to make the
// network misbehave on purpose: a slow link (bytes per second, both ways), connections reset, or a
// black hole (accepts, never answers). No root features, nothing outside loopback.
import net from 'node:net';

export interface FaultProxy {
  host: string;
  port: number;
  /** Bytes per second per direction per connection (0 = unlimited). */
  setRate(bytesPerSec: number): void;
  /** Destroys every open connection (the client sees a reset / connection lost). */
  resetAll(): void;
  /** While on, new connections are accepted and then never answered. */
  setBlackhole(on: boolean): void;
  /** Bytes forwarded so far towards the guest. */
  bytesUp(): number;
  connections(): number;
  close(): Promise<void>;
}

function throttled(src: net.Socket, dst: net.Socket, rate: () => number, count: (n: number) => void): void {
  let budget = 0;
  let last = Date.now();
  src.on('data', (chunk: Buffer) => {
    const r = rate();
    count(chunk.length);
    if (r <= 0) { if (!dst.write(chunk)) { src.pause(); dst.once('drain', () => src.resume()); } return; }
    src.pause();
    const send = (buf: Buffer) => {
      const now = Date.now();
      budget = Math.min(r, budget + ((now - last) / 1000) * r);
      last = now;
      if (budget >= 1) {
        const n = Math.min(buf.length, Math.floor(budget));
        budget -= n;
        dst.write(buf.subarray(0, n));
        if (n < buf.length) { setTimeout(() => send(buf.subarray(n)), 20); return; }
        src.resume();
        return;
      }
      setTimeout(() => send(buf), 20);
    };
    send(chunk);
  });
}

export async function startFaultProxy(opts: { host: string; port?: number; target: { host: string; port: number }; rate?: number }): Promise<FaultProxy> {
  let rate = opts.rate ?? 0;
  let blackhole = false;
  let up = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (blackhole) return;
    const upstream = net.connect(opts.target.port, opts.target.host);
    sockets.add(upstream);
    upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    throttled(client, upstream, () => rate, (n) => { up += n; });
    throttled(upstream, client, () => rate, () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return {
    host: opts.host,
    port: addr.port,
    setRate: (r) => { rate = r; },
    resetAll: () => { for (const s of sockets) s.resetAndDestroy(); },
    setBlackhole: (on) => { blackhole = on; },
    bytesUp: () => up,
    connections: () => sockets.size,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}
