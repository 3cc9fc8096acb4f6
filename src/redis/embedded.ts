import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';

/** File in DATA_DIR that holds the embedded Redis's URL while the daemon runs (for the CLI). */
export function embeddedRedisUrlFile(dataDir: string): string {
  return path.join(dataDir, 'redis', 'url');
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} during start-up`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, host);
      sock.setTimeout(500);
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => { sock.destroy(); resolve(d.toString().startsWith('+PONG')); });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => { sock.destroy(); resolve(false); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on ${host}:${port} within ${timeoutMs} ms`);
}

/**
 * Starts a private redis-server from PATH with its data (AOF on) under `dir`, bound to loopback on a free
 * port. Used when no REDIS_URL is configured, and by the test lab.
 */
export async function startRedisServer(dir: string, options: { port?: number; logger?: Logger; binary?: string; extraArgs?: string[] } = {}): Promise<EmbeddedRedis & { port: number; pid: number }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const args = [
    '--port', String(port), '--bind', host, '--daemonize', 'no', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes', '--logfile', path.join(dir, 'redis.log'), ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess;
  try {
    child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`cannot start redis-server: ${(e as Error).message}`, { cause: e });
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e: NodeJS.ErrnoException) => reject(new Error(
      e.code === 'ENOENT'
        ? 'redis-server is not installed (no REDIS_URL given, so the daemon starts its own). Install it: apt-get install -y redis-server'
        : `cannot start redis-server: ${e.message}`)));
  });
  await waitForPing(host, port, child, 10_000);
  // `pid` is the daemon's own on every line: the server's is `redisPid`.
  options.logger?.info({ port, dir, redisPid: child.pid }, 'embedded redis-server started');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `redis://${host}:${port}`,
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
