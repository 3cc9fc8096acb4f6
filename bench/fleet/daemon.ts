// pushinstalld as the fleet benchmark runs it: its own process (`node --import tsx src/main.ts`, as
// `npm start` does, so its RSS is the daemon's alone) against a private redis-server, with helpers to
// call its API and to read what it costs (RSS, Redis commands).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TokenStore } from '../../src/api/tokens.ts';
import { freePort } from '../../test/lab/samba.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchDaemon {
  child: ChildProcess;
  url: string;
  redis: Redis;
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T; ms: number }>;
  rssMiB(): number;
  /** Live heap after the latest full (mark-compact) GC, from --trace-gc: what RSS alone cannot tell apart from a leak. */
  heapAfterGcMiB(): number | null;
  stop(): Promise<void>;
}

function apiCaller(url: string, token: string): BenchDaemon['api'] {
  return async (method, route, body) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const t0 = performance.now();
    const res = await fetch(url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const ms = performance.now() - t0;
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* text */ }
    return { status: res.status, body: parsed as never, ms };
  };
}

/** Reads the daemon's --trace-gc lines as they come: the live heap after the latest mark-compact. */
function gcTraceReader(logFile: string): () => number | null {
  const gc = { offset: 0, rest: '', heaps: new Map<string, number>() };
  return () => {
    const fd = openSync(logFile, 'r');
    const buf = Buffer.alloc(1 << 20);
    let n;
    while ((n = readSync(fd, buf, 0, buf.length, gc.offset)) > 0) {
      gc.offset += n;
      const lines = (gc.rest + buf.subarray(0, n).toString('latin1')).split('\n');
      gc.rest = lines.pop() ?? '';
      for (const line of lines) {
        // One isolate per thread (tsx runs its loader in a worker): the daemon's is the big one.
        const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
        if (m) gc.heaps.set(m[1] as string, Number(m[2]));
      }
    }
    closeSync(fd);
    return gc.heaps.size ? Math.max(...gc.heaps.values()) : null;
  };
}

/** `roles`: ROLES of the process (default both); a second process of the same deployment shares the data folder (tokens, vault key). */
export async function startBenchDaemon(opts: { redisUrl: string; workDir: string; repositoryDir: string; passphrase: string; concurrency: number; csEndpoint: string; nodeArgs?: string[]; roles?: string; env?: Record<string, string> }): Promise<BenchDaemon> {
  const dataDir = path.join(opts.workDir, 'daemon');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = new TokenStore(path.join(dataDir, 'tokens.json')).add(opts.roles ? `bench-${opts.roles}` : 'bench', 'admin');
  const passphraseFile = path.join(dataDir, 'cs.passphrase');
  writeFileSync(passphraseFile, `${opts.passphrase}\n`, { mode: 0o600 });
  const port = await freePort();
  const logFile = path.join(opts.workDir, opts.roles ? `daemon-${opts.roles}.log` : 'daemon.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--trace-gc', ...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root',
      HOST: '127.0.0.1', PORT: String(port), REDIS_URL: opts.redisUrl, DATA_DIR: dataDir, REPOSITORY_DIR: opts.repositoryDir,
      CS_ENDPOINT: opts.csEndpoint, CS_VERSION: '9.99.0.0', CS_PASSPHRASE_FILE: passphraseFile, WORKER_CONCURRENCY: String(opts.concurrency),
      REPOSITORY_SETTLE_MS: '200', CONNECT_TIMEOUT_MS: '60000', LOG_LEVEL: 'info', ...(opts.roles ? { ROLES: opts.roles } : {}), ...opts.env,
    },
    stdio: ['ignore', logFd, logFd],
  });
  const url = `http://127.0.0.1:${port}`;
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const daemon: BenchDaemon = {
    child, url, redis,
    api: apiCaller(url, token),
    rssMiB() {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    heapAfterGcMiB: gcTraceReader(logFile),
    async stop() {
      redis.disconnect();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the daemon exited ${child.exitCode}; see ${path.join(opts.workDir, 'daemon.log')}`);
    try {
      const res = await daemon.api<{ installers: unknown[] }>('GET', '/api/v1/repository/installers');
      if (res.status === 200 && res.body.installers.length > 0) return daemon;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  await daemon.stop();
  throw new Error('the daemon did not come up within 60 s');
}

/** `INFO commandstats` as command → calls (commands run inside Lua scripts are counted too). */
export async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

export function statsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** Final job records (Succeeded, Warning, Failed, Cancelled), from the store's own counters. */
export async function finalCount(redis: Redis): Promise<number> {
  const counts = await redis.hgetall('pi:stats:jobs-by-state');
  return ['Succeeded', 'Warning', 'Failed', 'Cancelled'].reduce((n, s) => n + Number(counts[s] ?? 0), 0);
}
