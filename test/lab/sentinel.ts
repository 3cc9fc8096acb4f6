// Redis with Sentinel on loopback for the failover test: one primary, one replica, three sentinels
// (Debian's redis-server and redis-sentinel), and a way to kill the primary with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../src/redis/embedded.ts';
import { freePort } from './daemon-process.ts';

export const SENTINEL_NAME = 'pimaster';

export interface SentinelLab {
  /** REDIS_SENTINELS for the daemon. */
  sentinels: string;
  primaryPort: number;
  replicaPort: number;
  /** kill -9 of the current primary. */
  killPrimary(): void;
  /** The address the sentinels give for the primary now. */
  primary(): Promise<string>;
  stop(): Promise<void>;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try { await r.connect(); return await fn(r); } finally { r.disconnect(); }
}

export async function startSentinelLab(): Promise<SentinelLab> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-sentinel-'));
  const primary = await startRedisServer(path.join(dir, 'primary'));
  const replica = await startRedisServer(path.join(dir, 'replica'), { extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  await until('the replica to sync', () => ask(replica.port, async (r) => (await r.info('replication')).includes('master_link_status:up')));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = path.join(dir, `sentinel-${i}.conf`);
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`, `logfile ${path.join(dir, `sentinel-${i}.log`)}`,
      `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_NAME} 2000`,
      `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
      `sentinel parallel-syncs ${SENTINEL_NAME} 1`, '',
    ].join('\n'));
    children.push(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
    ports.push(port);
  }
  for (const port of ports) {
    await until(`sentinel ${port} to see the replica and the other sentinels`, () => ask(port, async (r) => {
      const replicas = (await r.call('SENTINEL', 'replicas', SENTINEL_NAME)) as unknown[];
      const others = (await r.call('SENTINEL', 'sentinels', SENTINEL_NAME)) as unknown[];
      return replicas.length === 1 && others.length === 2;
    }));
  }
  const servers = { [primary.port]: primary, [replica.port]: replica };
  const lab: SentinelLab = {
    sentinels: ports.map((p) => `127.0.0.1:${p}`).join(','),
    primaryPort: primary.port,
    replicaPort: replica.port,
    primary: () => ask(ports[0] as number, async (r) => ((await r.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[]).join(':')),
    killPrimary() {
      process.kill(primary.pid, 'SIGKILL');
    },
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(Object.values(servers).map((s) => s.stop().catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}
