import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { KeyAgreementError } from '../accounts/key-agreement.ts';
import { describeAjvError, type AjvError } from '../errors/ajv-error.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/validation-error.ts';
import { redactor } from '../logging/redactor.ts';

/** Turns ajv errors into one message that names the offending field. */
export function describeValidation(errors: AjvError[], part: string): { field: string; message: string } {
  const { field, problem } = describeAjvError(errors[0] as AjvError);
  const where = field === '' ? (part === 'body' ? 'body' : part) : field;
  return { field: where, message: `${part === 'body' ? '' : `${part} `}${where}: ${problem}` };
}

export function errorHandler(error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request: FastifyRequest, reply: FastifyReply): void {
  if (error.validation) {
    const { field, message } = describeValidation(error.validation, error.validationContext ?? 'body');
    void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, field });
    return;
  }
  if (error instanceof ValidationError) {
    void reply.code(error.status).send({ statusCode: error.status, error: error.status === 404 ? 'Not Found' : 'Bad Request', message: redactor.redact(error.message), field: error.field });
    return;
  }
  if (error instanceof NotFoundError) {
    void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: error.message });
    return;
  }
  if (error instanceof ConflictError) {
    void reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message, details: error.details });
    return;
  }
  if (error instanceof KeyAgreementError) {
    // This process lacks the cluster's vault key (rotated elsewhere): another API process can serve it.
    void reply.code(503).header('retry-after', '5').send({ statusCode: 503, error: 'Service Unavailable', message: error.message });
    return;
  }
  if (isRedisDown(error)) {
    void reply.code(503).header('retry-after', '2').send({ statusCode: 503, error: 'Service Unavailable', message: 'the job store (Redis) is unreachable; retry shortly' });
    return;
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: { message: error.message, stack: error.stack } }, 'request failed');
  void reply.code(status).send({
    statusCode: status,
    // fastify's own errors (413, 415, bad JSON) are named after their status like ours, not "FastifyError".
    error: STATUS_CODES[status] ?? 'Error',
    message: status === 500 ? 'internal error (see the daemon log)' : redactor.redact(error.message),
  });
}

export function isRedisDown(error: unknown): boolean {
  const msg = (error as Error)?.message ?? '';
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  return /Stream isn't writeable|enableOfflineQueue|Connection is closed|ECONNREFUSED|MaxRetriesPerRequest|Reached the max retries/i.test(msg) || code === 'ECONNREFUSED';
}
