import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
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

/** Why a start-up on a port chosen by us may be tried again on another port. */
class PortTaken extends Error {}

/** A start-up exit: PortTaken when the log says the port was in use, else the log's last lines. */
function exitedEarly(code: number, logFile: string): Error {
  let log = '';
  try { log = readFileSync(logFile, 'utf8').split('\n').slice(-6).join('\n'); } catch { /* no log yet */ }
  const message = `redis-server exited with code ${code} during start-up${log ? `:\n${log}` : ''}`;
  return /Address already in use/i.test(log) ? new PortTaken(message) : new Error(message);
}

/**
 * Waits until the server answers PING and checks, by `INFO server`'s process_id, that the answer comes
 * from the child we started: between freePort() closing its probe socket and redis-server binding,
 * another process may take the port, and a PONG from that one must not be taken for ours.
 */
async function waitForOwnPing(host: string, port: number, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw exitedEarly(child.exitCode, logFile);
    const pid = await new Promise<number | undefined>((resolve) => {
      const sock = net.connect(port, host);
      let reply = '';
      sock.setTimeout(500);
      sock.once('connect', () => sock.write('PING\r\nINFO server\r\n'));
      sock.on('data', (d) => {
        reply += d.toString();
        if (!reply.startsWith('+PONG')) { sock.destroy(); resolve(undefined); return; }
        const m = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
        if (m) { sock.destroy(); resolve(Number(m[1])); }
      });
      sock.once('error', () => resolve(undefined));
      sock.once('close', () => resolve(undefined)); // a listener that hangs up is not (yet) our server
      sock.once('timeout', () => { sock.destroy(); resolve(undefined); });
    });
    if (pid === child.pid) return;
    if (pid !== undefined) throw new PortTaken(`${host}:${port} is served by another redis-server (pid ${pid})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on ${host}:${port} within ${timeoutMs} ms`);
}

async function spawnRedis(binary: string, args: string[]): Promise<ChildProcess> {
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
  return child;
}

type StartOptions = { port?: number; logger?: Logger; binary?: string; extraArgs?: string[] };

/** One start on `port`; a child that lost its port is killed before PortTaken goes up. */
async function startOn(dir: string, host: string, port: number, options: StartOptions): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', host, '--daemonize', 'no', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes', '--logfile', path.join(dir, 'redis.log'), ...(options.extraArgs ?? []),
  ];
  const child = await spawnRedis(options.binary ?? 'redis-server', args);
  try {
    await waitForOwnPing(host, port, child, path.join(dir, 'redis.log'), 10_000);
    return child;
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  }
}

/**
 * Starts a private redis-server from PATH with its data (AOF on) under `dir`, bound to loopback on a free
 * port (another one when the chosen port was taken meanwhile). Used when no REDIS_URL is configured, and
 * by the test lab.
 */
export async function startRedisServer(dir: string, options: StartOptions = {}): Promise<EmbeddedRedis & { port: number; pid: number }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const host = '127.0.0.1';
  let port = options.port ?? (await freePort(host));
  let started: ChildProcess | undefined;
  for (let attempt = 1; !started; attempt++) {
    try {
      started = await startOn(dir, host, port, options);
    } catch (e) {
      if (!(e instanceof PortTaken) || options.port !== undefined || attempt >= 5) throw e;
      port = await freePort(host);
    }
  }
  const child = started;
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
