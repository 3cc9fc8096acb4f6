import type { Redis } from 'ioredis';

const KEY = 'pi:process-servers';

export interface ProcessServerInfo {
  id: string;
  lastSeen: string;
  workers: Record<string, { pid: number; host: string; concurrency: number; lastSeen: string }>;
}

/** The process servers whose workers have registered (heartbeat), so submissions can be routed safely. */
export class ProcessServerRegistry {
  constructor(private readonly redis: Redis) {}

  async heartbeat(id: string, worker: { instance: string; pid: number; host: string; concurrency: number }): Promise<void> {
    const now = new Date().toISOString();
    const raw = await this.redis.hget(KEY, id);
    const info: ProcessServerInfo = raw ? (JSON.parse(raw) as ProcessServerInfo) : { id, lastSeen: now, workers: {} };
    info.lastSeen = now;
    info.workers[worker.instance] = { pid: worker.pid, host: worker.host, concurrency: worker.concurrency, lastSeen: now };
    // Forget worker instances not seen for a day.
    for (const [k, w] of Object.entries(info.workers)) if (Date.parse(w.lastSeen) < Date.now() - 86_400_000) delete info.workers[k];
    await this.redis.hset(KEY, id, JSON.stringify(info));
  }

  async list(): Promise<ProcessServerInfo[]> {
    const all = await this.redis.hgetall(KEY);
    return Object.values(all).map((v) => JSON.parse(v) as ProcessServerInfo).sort((a, b) => a.id.localeCompare(b.id));
  }

  async known(id: string): Promise<boolean> {
    return (await this.redis.hexists(KEY, id)) === 1;
  }
}
