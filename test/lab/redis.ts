import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRedisServer } from '../../src/redis/embedded.ts';

export interface LabRedis { url: string; port: number; dir: string; stop(): Promise<void>; restart(): Promise<void>; stopOnly(): Promise<void>; startAgain(): Promise<void> }

/** A private redis-server (AOF on) for one test file. */
export async function startLabRedis(): Promise<LabRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-redis-'));
  let server = await startRedisServer(dir);
  const lab: LabRedis = {
    url: server.url,
    port: server.port,
    dir,
    async stop() { await server.stop(); rmSync(dir, { recursive: true, force: true }); },
    async restart() { await server.stop(); server = await startRedisServer(dir, { port: lab.port }); },
    /** Stops the server (AOF flushed on the way out) without removing its data. */
    async stopOnly() { await server.stop(); },
    async startAgain() { server = await startRedisServer(dir, { port: lab.port }); },
  };
  return lab;
}
