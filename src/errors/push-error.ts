import type { JobError } from '../domain/job.ts';
import { catalogueEntry } from './catalogue.ts';

/**
 * A failure that maps to one catalogue entry. The step that throws it adds details (exit code, log tail,
 * NTSTATUS name, ...), never secrets: callers pass command output through the redactor first.
 */
export class PushError extends Error {
  readonly code: number;
  readonly details: Record<string, unknown>;
  /** Override of the catalogue's retryable flag for this occurrence (e.g. a reset during copy). */
  readonly retryableOverride: boolean | undefined;

  constructor(code: number, details: Record<string, unknown> = {}, options?: { cause?: unknown; retryable?: boolean; message?: string }) {
    const entry = catalogueEntry(code);
    super(options?.message ?? entry.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PushError';
    this.code = code;
    this.details = details;
    this.retryableOverride = options?.retryable;
  }

  get retryable(): boolean {
    return this.retryableOverride ?? catalogueEntry(this.code).retryable;
  }

  toJobError(): JobError {
    const entry = catalogueEntry(this.code);
    const out: JobError = {
      code: this.code,
      message: this.message,
      possibleCauses: entry.possibleCauses,
      recommendedAction: entry.recommendedAction,
      retryable: this.retryable,
    };
    if (Object.keys(this.details).length > 0) out.details = this.details;
    return out;
  }
}

export function isPushError(e: unknown): e is PushError {
  return e instanceof PushError;
}
