import type { OfferedInstaller, ProcessServerInfo, ProcessServerRegistry, WorkerHeartbeat } from './process-servers.ts';
import type { Queues } from './queues.ts';

/** A worker that sent no heartbeat for this long is not counted as serving (they beat every 10 s). */
const LIVE_MS = 30_000;

type KeyState = NonNullable<WorkerHeartbeat['keyAgreement']>;

export interface ProcessServerWorkerView {
  instance: string;
  host: string;
  pid: number;
  concurrency: number;
  heartbeatAgeSec: number;
  live: boolean;
  keyAgreement: KeyState;
  version: string | null;
}

/** A process server as an operator sees it (GET /api/v1/process-servers). */
export interface ProcessServerView {
  id: string;
  /** Drained: its workers take no new job (running ones finish, queued ones wait) until resumed. */
  drained: boolean;
  heartbeatAgeSec: number;
  /** Jobs its live workers run at once, together. */
  concurrency: number;
  /** Its queue's entries by BullMQ state (waiting, active, delayed, ...). */
  queue: Record<string, number>;
  installers: OfferedInstaller[];
  /** 'mismatch' when a live worker lacks the cluster's vault key (that worker takes no job). */
  keyAgreement: KeyState;
  version: string | null;
  workers: ProcessServerWorkerView[];
}

// A paused (drained) queue keeps its waiting jobs in 'waiting' (BullMQ 5); `drained` tells it apart.
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

const ageSec = (iso: string): number => Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 100) / 10);

/**
 * Process servers as things an operator manages: what each offers and runs, and drain/resume. Draining
 * pauses the process server's BullMQ queue: the pause lives in Redis, so every worker of that process
 * server obeys it; jobs already active keep running, waiting and delayed ones stay queued.
 */
export class ProcessServerAdmin {
  constructor(private readonly registry: ProcessServerRegistry, private readonly queues: Queues) {}

  async list(): Promise<ProcessServerView[]> {
    return Promise.all((await this.registry.list()).map((info) => this.view(info)));
  }

  /** The process server, or null when no worker of it ever registered. */
  async get(id: string): Promise<ProcessServerView | null> {
    const info = await this.registry.get(id);
    return info ? this.view(info) : null;
  }

  /** Stops its workers taking new jobs (idempotent); null when the id is unknown. */
  async drain(id: string): Promise<ProcessServerView | null> {
    if (!(await this.registry.known(id))) return null;
    await this.queues.get(id).pause();
    return this.get(id);
  }

  /** Lets its workers take jobs again (idempotent); null when the id is unknown. */
  async resume(id: string): Promise<ProcessServerView | null> {
    if (!(await this.registry.known(id))) return null;
    await this.queues.get(id).resume();
    return this.get(id);
  }

  private async view(info: ProcessServerInfo): Promise<ProcessServerView> {
    const queue = this.queues.get(info.id);
    const [counts, drained] = await Promise.all([queue.getJobCounts(...QUEUE_STATES), queue.isPaused()]);
    const workers = Object.entries(info.workers).map(([instance, w]): ProcessServerWorkerView => ({
      instance, host: w.host, pid: w.pid, concurrency: w.concurrency, heartbeatAgeSec: ageSec(w.lastSeen),
      live: Date.now() - Date.parse(w.lastSeen) < LIVE_MS, keyAgreement: w.keyAgreement ?? 'unknown', version: w.version ?? null,
    }));
    const live = workers.filter((w) => w.live);
    const installers = new Map<string, OfferedInstaller>();
    for (const w of Object.values(info.workers)) for (const i of w.installers ?? []) installers.set(i.file, i);
    return {
      id: info.id, drained, heartbeatAgeSec: ageSec(info.lastSeen),
      concurrency: live.reduce((n, w) => n + w.concurrency, 0),
      queue: counts,
      installers: [...installers.values()].sort((a, b) => a.file.localeCompare(b.file)),
      keyAgreement: live.some((w) => w.keyAgreement === 'mismatch') ? 'mismatch' : live.every((w) => w.keyAgreement === 'agreed') && live.length > 0 ? 'agreed' : 'unknown',
      version: live.find((w) => w.version)?.version ?? null,
      workers,
    };
  }
}
