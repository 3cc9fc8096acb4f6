import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { redactor } from '../logging/redactor.ts';
import type { JobContext } from '../pipeline/context.ts';
import type { JobStore } from './store.ts';
import type { JobError, JobRecord, Task, TaskName, TaskState } from '../domain/job.ts';

/** Turns anything thrown into a catalogue error (unknown errors become 99099 with their message). */
export function toPushError(e: unknown, signal?: AbortSignal): PushError {
  if (e instanceof PushError) return e;
  if (signal?.aborted) return new PushError(Codes.Cancelled);
  return new PushError(Codes.Internal, { cause: redactor.redact(e instanceof Error ? e.message : String(e)) });
}

/** How long log lines gather before they are written together (the log is read by people, not clocks). */
const LOG_BATCH_MS = 100;

function taskOf(j: JobRecord, name: TaskName): Task {
  const task = j.tasks.find((t) => t.name === name);
  if (!task) throw new Error(`job ${j.id} has no task ${name}`);
  return task;
}

export function redactedJobError(e: PushError): JobError {
  return redactor.redactValue(e.toJobError());
}

/** The worker's JobContext: every report becomes an update of the durable job record. */
export class StoreJobContext implements JobContext {
  private logBuffer: Array<{ at: Date; line: string }> = [];
  private logWriter: Promise<void> | null = null;
  private logWake: (() => void) | null = null;
  private flushing = false;
  /** Record writes run one after the other (each starts from the record the previous one stored). */
  private writes: Promise<void> = Promise.resolve();
  /**
   * Changes that ride with the next write: fields that make no change event (the installer), and a
   * task's success, which the next task's start carries (one write, the same two events); when nothing
   * follows at once, they are written on their own in the next turn of the event loop.
   */
  private deferred: Array<(j: JobRecord) => void> = [];

  constructor(
    private current: JobRecord,
    private readonly store: JobStore,
    readonly signal: AbortSignal,
    private readonly onLog: (line: string) => void = () => undefined,
    private readonly lastAttempt = true,
  ) {}

  willRetry(error: unknown): boolean {
    return !this.lastAttempt && !this.signal.aborted && toPushError(error, this.signal).retryable;
  }

  get job(): JobRecord {
    return this.current;
  }

  private updateTask(name: TaskName, change: (t: Task, j: JobRecord) => void): Promise<void> {
    return this.write((j) => change(taskOf(j, name), j));
  }

  /** One write of the record with the deferred changes, starting from the record as last written (no read). */
  private write(change?: (j: JobRecord) => void): Promise<void> {
    const run = this.writes.then(async () => {
      const deferred = this.deferred.splice(0);
      if (!change && deferred.length === 0) return;
      try {
        this.current = await this.store.update(this.current.id, (j) => {
          for (const apply of deferred) apply(j);
          change?.(j);
        }, this.current);
      } catch (e) {
        this.deferred.unshift(...deferred);
        throw e;
      }
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** `soon`: written in the next turn of the event loop at the latest (progress people watch). */
  private defer(change: (j: JobRecord) => void, soon: boolean): void {
    this.deferred.push(change);
    if (soon) setImmediate(() => void this.write().catch(() => undefined));
  }

  async task<T>(name: TaskName, work: () => Promise<T>): Promise<T> {
    await this.updateTask(name, (t) => {
      t.state = 'InProgress';
      t.startedAt = new Date().toISOString();
      delete t.endedAt;
      t.errors = [];
    });
    try {
      const result = await work();
      const endedAt = new Date().toISOString();
      this.defer((j) => {
        const t = taskOf(j, name);
        if (t.state === 'InProgress') { t.state = 'Succeeded'; t.endedAt = endedAt; }
      }, true);
      return result;
    } catch (e) {
      const err = toPushError(e, this.signal);
      const state: TaskState = err.code === Codes.Cancelled ? 'Cancelled' : 'Failed';
      await this.updateTask(name, (t) => {
        t.state = state;
        t.endedAt = new Date().toISOString();
        t.errors = [redactedJobError(err)];
      });
      throw err;
    }
  }

  // Skips, ends and notes ride with the next write too (at the latest in the next turn of the event loop).

  async skip(name: TaskName, message: string): Promise<void> {
    const now = new Date().toISOString();
    const clean = redactor.redact(message);
    this.defer((j) => {
      const t = taskOf(j, name);
      t.state = 'Skipped';
      t.message = clean;
      t.startedAt ??= now;
      t.endedAt = now;
    }, true);
  }

  async endTask(name: TaskName, state: 'Failed' | 'Warning' | 'Succeeded', error?: JobError, message?: string): Promise<void> {
    const now = new Date().toISOString();
    const cleanError = error ? redactor.redactValue(error) : undefined;
    const cleanMessage = message ? redactor.redact(message) : undefined;
    this.defer((j) => {
      const t = taskOf(j, name);
      t.state = state;
      t.startedAt ??= now;
      t.endedAt = now;
      if (cleanError) t.errors = [cleanError];
      if (cleanMessage) t.message = cleanMessage;
    }, true);
  }

  async note(name: TaskName, message: string): Promise<void> {
    const clean = redactor.redact(message);
    this.defer((j) => { taskOf(j, name).message = clean; }, true);
  }

  log(line: string): void {
    const clean = redactor.redact(line);
    this.onLog(clean);
    this.logBuffer.push({ at: new Date(), line: clean });
    this.logWriter ??= this.writeLog();
  }

  /** One log write in flight at a time, each with the lines of the last LOG_BATCH_MS (all at once when flushing). */
  private async writeLog(): Promise<void> {
    while (this.logBuffer.length > 0) {
      if (!this.flushing) await new Promise<void>((resolve) => { this.logWake = resolve; setTimeout(resolve, LOG_BATCH_MS); });
      this.logWake = null;
      const batch = this.logBuffer.splice(0);
      await this.store.appendLogs(this.current.id, batch).catch(() => undefined);
    }
    this.logWriter = null;
  }

  /** Writes what the context still holds: buffered log lines and deferred record changes. */
  async flushLog(): Promise<void> {
    this.flushing = true;
    this.logWake?.();
    try {
      while (this.logWriter) await this.logWriter;
      await this.write();
    } finally {
      this.flushing = false;
    }
  }

  async setInstaller(installer: { file: string; sha256: string }, agentVersion: string): Promise<void> {
    this.defer((j) => {
      j.installer = installer;
      j.agentVersion = agentVersion;
    }, false); // called inside a task, whose end (or failure) is the next write at the latest
  }

  /** Re-reads the record (after someone else, e.g. cancel, changed it). */
  async refresh(): Promise<JobRecord> {
    const j = await this.store.get(this.current.id);
    if (j) this.current = j;
    return this.current;
  }
}
