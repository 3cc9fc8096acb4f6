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

export function redactedJobError(e: PushError): JobError {
  return redactor.redactValue(e.toJobError());
}

/** The worker's JobContext: every report becomes an update of the durable job record. */
export class StoreJobContext implements JobContext {
  private logQueue: Promise<void> = Promise.resolve();

  constructor(
    private current: JobRecord,
    private readonly store: JobStore,
    readonly signal: AbortSignal,
    private readonly onLog: (line: string) => void = () => undefined,
    private readonly lastAttempt = true,
    private readonly onCopy: (bytes: number, seconds: number) => void = () => undefined,
  ) {}

  copied(bytes: number, seconds: number): void {
    this.onCopy(bytes, seconds);
  }

  willRetry(error: unknown): boolean {
    return !this.lastAttempt && !this.signal.aborted && toPushError(error, this.signal).retryable;
  }

  get job(): JobRecord {
    return this.current;
  }

  private async updateTask(name: TaskName, change: (t: Task, j: JobRecord) => void): Promise<void> {
    this.current = await this.store.update(this.current.id, (j) => {
      const task = j.tasks.find((t) => t.name === name);
      if (!task) throw new Error(`job ${j.id} has no task ${name}`);
      change(task, j);
    });
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
      await this.updateTask(name, (t) => {
        if (t.state === 'InProgress') { t.state = 'Succeeded'; t.endedAt = new Date().toISOString(); }
      });
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

  async skip(name: TaskName, message: string): Promise<void> {
    await this.updateTask(name, (t) => {
      t.state = 'Skipped';
      t.message = redactor.redact(message);
      const now = new Date().toISOString();
      t.startedAt ??= now;
      t.endedAt = now;
    });
  }

  async endTask(name: TaskName, state: 'Failed' | 'Warning' | 'Succeeded', error?: JobError, message?: string): Promise<void> {
    await this.updateTask(name, (t) => {
      t.state = state;
      const now = new Date().toISOString();
      t.startedAt ??= now;
      t.endedAt = now;
      if (error) t.errors = [redactor.redactValue(error)];
      if (message) t.message = redactor.redact(message);
    });
  }

  async note(name: TaskName, message: string): Promise<void> {
    await this.updateTask(name, (t) => { t.message = redactor.redact(message); });
  }

  log(line: string): void {
    const clean = redactor.redact(line);
    this.onLog(clean);
    this.logQueue = this.logQueue.then(() => this.store.appendLog(this.current.id, clean)).catch(() => undefined);
  }

  async flushLog(): Promise<void> {
    await this.logQueue;
  }

  async setInstaller(installer: { file: string; sha256: string }, agentVersion: string): Promise<void> {
    this.current = await this.store.update(this.current.id, (j) => {
      j.installer = installer;
      j.agentVersion = agentVersion;
    });
  }

  /** Re-reads the record (after someone else, e.g. cancel, changed it). */
  async refresh(): Promise<JobRecord> {
    const j = await this.store.get(this.current.id);
    if (j) this.current = j;
    return this.current;
  }
}
