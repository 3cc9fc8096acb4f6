import type { JobError, JobRecord, TaskName } from '../domain/job.ts';

/**
 * What a pipeline sees of the job it runs: it reports task progress through this interface and never
 * touches Redis or BullMQ itself.
 */
export interface JobContext {
  readonly job: JobRecord;
  /** Aborted when the job is cancelled or the worker shuts down. */
  readonly signal: AbortSignal;
  /** Runs one task: InProgress, then Succeeded, or Failed with the error it throws (which is rethrown). */
  task<T>(name: TaskName, work: () => Promise<T>): Promise<T>;
  /** Marks a task Skipped with the reason. */
  skip(name: TaskName, message: string): Promise<void>;
  /** Ends a task in the given state with an error, without failing the job (e.g. VSS on agent ≥ 9.23). */
  endTask(name: TaskName, state: 'Failed' | 'Warning' | 'Succeeded', error?: JobError, message?: string): Promise<void>;
  /** Adds a note to a task (shown as its message). */
  note(name: TaskName, message: string): Promise<void>;
  /** A line for the job's log (redacted on the way in). */
  log(line: string): void;
  setInstaller(installer: { file: string; sha256: string }, agentVersion: string): Promise<void>;
  /** Reports a finished copy of the installer (metrics: bytes and seconds). */
  copied?(bytes: number, seconds: number): void;
  /** The version the installed agent reports (release plus build), kept as the job's installedBuild. */
  setInstalledBuild(version: string): Promise<void>;
  /**
   * Runs `release` once the attempt has ended and written its last word (forgets the secrets it
   * decrypted: nothing it produces can carry them any more).
   */
  onEnd(release: () => void): void;
  /** Whether this failure will be retried by another attempt (then the guest's staging folder is kept). */
  willRetry(error: unknown): boolean;
}

/** How a pipeline ended when it did not throw. */
export interface PipelineOutcome {
  state: 'Succeeded' | 'Warning';
  /** Job-level warnings (also on their tasks). */
  warnings: JobError[];
}
