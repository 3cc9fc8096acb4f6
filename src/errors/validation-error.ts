/** Bad input from a client: the API answers 400 (or `status`) with the field it names. */
export class ValidationError extends Error {
  constructor(readonly field: string, problem: string, readonly status = 400) {
    super(`${field}: ${problem}`);
    this.name = 'ValidationError';
  }
}

/** A request that conflicts with the current state (API 409). */
export class ConflictError extends Error {
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends Error {
  constructor(what: string, id: string) {
    super(`${what} ${id} does not exist`);
    this.name = 'NotFoundError';
  }
}
