import type { Redis } from 'ioredis';

const KEY = 'pi:process-servers';

/** An installer a worker's repository offers, as published with its heartbeat. */
export interface OfferedInstaller {
  file: string;
  osTag: string;
  version: string;
}

/** What one worker process publishes with each heartbeat. */
export interface WorkerHeartbeat {
  pid: number;
  host: string;
  concurrency: number;
  lastSeen: string;
  /** The installers its repository offers (absent from workers that predate the field). */
  installers?: OfferedInstaller[];
  /** Whether it holds the cluster's vault key (it takes no job while 'mismatch'). */
  keyAgreement?: 'agreed' | 'mismatch' | 'unknown';
  /** CS_VERSION, when set. */
  version?: string | null;
}

export interface ProcessServerInfo {
  id: string;
  lastSeen: string;
  workers: Record<string, WorkerHeartbeat>;
}

/** The process servers whose workers have registered (heartbeat), so submissions can be routed safely. */
export class ProcessServerRegistry {
  constructor(private readonly redis: Redis) {}

  async heartbeat(id: string, worker: Omit<WorkerHeartbeat, 'lastSeen'> & { instance: string }): Promise<void> {
    const now = new Date().toISOString();
    const raw = await this.redis.hget(KEY, id);
    const info: ProcessServerInfo = raw ? (JSON.parse(raw) as ProcessServerInfo) : { id, lastSeen: now, workers: {} };
    info.lastSeen = now;
    const { instance, ...published } = worker;
    info.workers[instance] = { ...published, lastSeen: now };
    // Forget worker instances not seen for a day.
    for (const [k, w] of Object.entries(info.workers)) if (Date.parse(w.lastSeen) < Date.now() - 86_400_000) delete info.workers[k];
    await this.redis.hset(KEY, id, JSON.stringify(info));
  }

  async list(): Promise<ProcessServerInfo[]> {
    const all = await this.redis.hgetall(KEY);
    return Object.values(all).map((v) => JSON.parse(v) as ProcessServerInfo).sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<ProcessServerInfo | null> {
    const raw = await this.redis.hget(KEY, id);
    return raw ? (JSON.parse(raw) as ProcessServerInfo) : null;
  }

  async known(id: string): Promise<boolean> {
    return (await this.redis.hexists(KEY, id)) === 1;
  }
}
