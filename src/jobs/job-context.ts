import { Codes } from '../errors/catalogue.ts';
import { redactor } from '../logging/redactor.ts';
import type { JobContext } from '../pipeline/context.ts';
import type { JobStore } from './store.ts';
import type { JobError, JobRecord, TaskName } from '../domain/job.ts';
import { abortedForShutdown, redactedJobError, toPushError } from './failures.ts';
import { endTask, finishTask, noteTask, startTask } from './transitions.ts';

/** The worker's JobContext: every report becomes a transition of the durable job record. */
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
    // Handed back (shutdown): the next attempt comes, and a command still running may use the staging folder.
    if (abortedForShutdown(this.signal)) return true;
    return !this.lastAttempt && !this.signal.aborted && toPushError(error, this.signal).retryable;
  }

  get job(): JobRecord {
    return this.current;
  }

  private async change(transition: (j: JobRecord) => boolean | void): Promise<void> {
    this.current = await this.store.update(this.current.id, transition);
  }

  async task<T>(name: TaskName, work: () => Promise<T>): Promise<T> {
    await this.change((j) => startTask(j, name));
    try {
      const result = await work();
      await this.change((j) => finishTask(j, name));
      return result;
    } catch (e) {
      const err = toPushError(e, this.signal);
      const state = err.code === Codes.Cancelled ? 'Cancelled' : 'Failed';
      await this.change((j) => endTask(j, name, { state, error: redactedJobError(err) }));
      throw err;
    }
  }

  async skip(name: TaskName, message: string): Promise<void> {
    await this.change((j) => endTask(j, name, { state: 'Skipped', message: redactor.redact(message) }));
  }

  async endTask(name: TaskName, state: 'Failed' | 'Warning' | 'Succeeded', error?: JobError, message?: string): Promise<void> {
    const end = { state, error: error && redactor.redactValue(error), message: message && redactor.redact(message) };
    await this.change((j) => endTask(j, name, end));
  }

  async note(name: TaskName, message: string): Promise<void> {
    await this.change((j) => noteTask(j, name, redactor.redact(message)));
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
    await this.change((j) => {
      j.installer = installer;
      j.agentVersion = agentVersion;
    });
  }

  async setInstalledBuild(version: string): Promise<void> {
    await this.change((j) => { j.installedBuild = version; });
  }
}
