import type { Job } from 'bullmq';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { redactor } from '../logging/redactor.ts';
import type { JobError } from '../domain/job.ts';

// How the failures around a job are told apart: by type, as BullMQ does with UnrecoverableError and
// DelayedError, never by comparing messages.

/** The AbortSignal reason of a running job that a user cancelled: the job ends Cancelled. */
export class CancelledByUser extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} was cancelled`);
    this.name = 'CancelledByUser';
  }
}

/** The AbortSignal reason of the jobs still running when their worker's shutdown grace ends: handed back. */
export class WorkerShutdown extends Error {
  constructor() {
    super('the worker is shutting down');
    this.name = 'WorkerShutdown';
  }
}

/** Whether the signal was aborted because the worker shuts down (the job goes back to the queue). */
export function abortedForShutdown(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof WorkerShutdown;
}

/**
 * BullMQ gave up on a job by itself: it stalled more than maxStalledCount times (the workers running it
 * kept dying). BullMQ marks such a job with `deferredFailure` and, when a worker next picks it up, fails
 * it with that reason before any processor runs; that field, not the failure's message, is what tells it
 * apart from the failures our processor throws (which it records itself).
 */
export class StalledTooOften extends Error {
  private constructor(reason: string) {
    super(reason);
    this.name = 'StalledTooOften';
  }

  /** The failure when BullMQ failed `job` on its own, else null. */
  static of(job: Job): StalledTooOften | null {
    return job.deferredFailure ? new StalledTooOften(job.deferredFailure) : null;
  }

  toJobError(): JobError {
    return redactedJobError(new PushError(Codes.Internal, { reason: this.message }, { message: `The job could not be completed: ${this.message}` }));
  }
}

/** Turns anything thrown into a catalogue error (unknown errors become 99099 with their message). */
export function toPushError(e: unknown, signal?: AbortSignal): PushError {
  if (e instanceof PushError) return e;
  if (signal?.aborted) return new PushError(Codes.Cancelled);
  return new PushError(Codes.Internal, { cause: redactor.redact(e instanceof Error ? e.message : String(e)) });
}

export function redactedJobError(e: PushError): JobError {
  return redactor.redactValue(e.toJobError());
}
