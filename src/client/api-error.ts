import type { ErrorBody } from './contract.ts';

/** A 4xx/5xx answer of the API: its status and error body (`field` names the bad input of a 400). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly error: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(readonly method: string, readonly path: string, readonly status: number, body: Partial<ErrorBody> | string) {
    const json = typeof body === 'string' ? {} : body;
    super(json.message ?? (typeof body === 'string' && body !== '' ? body : `HTTP ${status}`));
    this.error = json.error ?? `HTTP ${status}`;
    if (json.field !== undefined) this.field = json.field;
    if (json.details !== undefined) this.details = json.details;
  }
}
