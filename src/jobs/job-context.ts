import { Codes } from '../errors/catalogue.ts';
import { redactor } from '../logging/redactor.ts';
import type { JobContext } from '../pipeline/context.ts';
import type { JobStore } from './store.ts';
import type { JobError, JobRecord, TaskName } from '../domain/job.ts';
import { abortedForShutdown, redactedJobError, toPushError } from './failures.ts';
import { endTask, finishTask, noteTask, startTask } from './transitions.ts';

type Transition = (j: JobRecord) => boolean | void;

/** How long log lines gather before they are written together (the log is read by people, not clocks). */
const LOG_BATCH_MS = 100;

/** The worker's JobContext: every report becomes a transition of the durable job record. */
export class StoreJobContext implements JobContext {
  private logBuffer: Array<{ at: Date; line: string }> = [];
  private logWriter: Promise<void> | null = null;
  private logWake: (() => void) | null = null;
  private flushing = false;
  /** Record writes run one after the other (each starts from the record the previous one stored). */
  private writes: Promise<void> = Promise.resolve();
  /**
   * Transitions that ride with the next write: fields that make no change event (the installer), and a
   * task's end, skip or note, which the next task's start carries (one write, the same events); when
   * nothing follows at once, they are written on their own in the next turn of the event loop.
   */
  private deferred: Transition[] = [];
  private readonly endings: Array<() => void> = [];

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

  onEnd(release: () => void): void {
    this.endings.push(release);
  }

  /** The attempt has ended and written everything: runs what waited for it (see onEnd). */
  end(): void {
    for (const release of this.endings.splice(0)) release();
  }

  get job(): JobRecord {
    return this.current;
  }

  /**
   * One write of the record: the deferred transitions, then `transition`, starting from the record as
   * last written (no read; a stale one only costs the store's retry). Nothing is written when none changes it.
   */
  private change(transition?: Transition): Promise<void> {
    const run = this.writes.then(async () => {
      const deferred = this.deferred.splice(0);
      if (!transition && deferred.length === 0) return;
      try {
        this.current = await this.store.update(this.current.id, (j) => {
          let changed = false;
          for (const t of [...deferred, ...(transition ? [transition] : [])]) changed = t(j) !== false || changed;
          return changed;
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
  private defer(transition: Transition, soon = true): void {
    this.deferred.push(transition);
    if (soon) setImmediate(() => void this.change().catch(() => undefined));
  }

  async task<T>(name: TaskName, work: () => Promise<T>): Promise<T> {
    await this.change((j) => startTask(j, name));
    try {
      const result = await work();
      const at = new Date().toISOString();
      this.defer((j) => finishTask(j, name, at));
      return result;
    } catch (e) {
      const err = toPushError(e, this.signal);
      const state = err.code === Codes.Cancelled ? 'Cancelled' : 'Failed';
      await this.change((j) => endTask(j, name, { state, error: redactedJobError(err) }));
      throw err;
    }
  }

  // Skips, ends and notes ride with the next write too (at the latest in the next turn of the event loop).

  async skip(name: TaskName, message: string): Promise<void> {
    const end = { state: 'Skipped' as const, message: redactor.redact(message) };
    const at = new Date().toISOString();
    this.defer((j) => endTask(j, name, end, at));
  }

  async endTask(name: TaskName, state: 'Failed' | 'Warning' | 'Succeeded', error?: JobError, message?: string): Promise<void> {
    const end = { state, error: error && redactor.redactValue(error), message: message && redactor.redact(message) };
    const at = new Date().toISOString();
    this.defer((j) => endTask(j, name, end, at));
  }

  async note(name: TaskName, message: string): Promise<void> {
    const clean = redactor.redact(message);
    this.defer((j) => noteTask(j, name, clean));
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
    await this.finish();
  }

  /**
   * The attempt's last write: buffered log lines, deferred changes and `transition` (the job's end), sent
   * together (the log's lines go first on the connection; nothing waits for the other's reply).
   */
  async finish(transition?: Transition): Promise<void> {
    this.flushing = true;
    this.logWake?.();
    try {
      await Promise.all([this.drainLog(), this.change(transition)]);
    } finally {
      this.flushing = false;
    }
  }

  private async drainLog(): Promise<void> {
    while (this.logWriter) await this.logWriter;
  }

  async setInstaller(installer: { file: string; sha256: string }, agentVersion: string): Promise<void> {
    this.defer((j) => {
      j.installer = installer;
      j.agentVersion = agentVersion;
    }, false); // called inside a task, whose end (or failure) is the next write at the latest
  }

  async setInstalledBuild(version: string): Promise<void> {
    this.defer((j) => { j.installedBuild = version; }, false); // likewise inside a task
  }
}
