import { randomUUID } from 'node:crypto';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { TASKS_BY_TYPE, type AttemptLogEntry, type JobError, type JobRecord, type JobState, type JobType, type MachineRequest, type Task, type TaskName, type TaskState } from '../domain/job.ts';
import { redactedJobError } from './failures.ts';

// Every change of a job's or a task's state, as pure functions over the record; no other code assigns a
// `state`. They are called inside `JobStore.update`, which stores the result and logs the state changes.
//
// One rule for all of them: a transition returns true when it changed the record, and false, changing
// nothing, when the record is not in a state it may start from (e.g. cancelling a job that has ended):
// exactly what an update mutator returns to leave the record alone. Naming a task the job does not have
// is a programming error and throws.

/** A job that has not ended: it may be queued (NotStarted) or running or waiting for a retry (InProgress). */
const ACTIVE: readonly JobState[] = ['NotStarted', 'InProgress'];
/**
 * The task states a task may end from. Skipped follows Succeeded when the work found nothing to do (e.g.
 * no agent to uninstall); Failed follows Warning or Succeeded when the work throws after ending its task.
 * A task that failed, was cancelled or skipped stays so until the next attempt.
 */
const TASK_ENDABLE: readonly TaskState[] = ['NotStarted', 'InProgress', 'Succeeded', 'Warning'];

export type TaskEndState = 'Succeeded' | 'Warning' | 'Failed' | 'Cancelled' | 'Skipped';
export interface TaskEnd {
  state: TaskEndState;
  error?: JobError | undefined;
  message?: string | undefined;
}

function nowIso(): string {
  return new Date().toISOString();
}

function isIn<S extends string>(state: S, allowed: readonly S[]): boolean {
  return allowed.includes(state);
}

/** A new job record for one machine of a submit: NotStarted, every task of its type NotStarted. */
export function newJob(input: { type: JobType; machine: MachineRequest; processServerId: string; restartOf?: string | undefined }, at = nowIso()): JobRecord {
  const { type, machine: m, processServerId } = input;
  const record: JobRecord = {
    id: randomUUID(),
    type,
    machine: { machineId: m.machineId, displayName: m.displayName ?? m.machineId, address: m.address, os: m.os },
    processServerId,
    runAsAccountId: m.runAsAccountId,
    state: 'NotStarted',
    tasks: TASKS_BY_TYPE[type].map((name) => ({ name, state: 'NotStarted', errors: [] })),
    errors: [],
    attempts: 0,
    createdAt: at,
    request: { ...m, processServerId },
    rev: 0,
  };
  if (input.restartOf) record.restartOf = input.restartOf;
  return record;
}

// ---- attempts ----

/**
 * A worker starts an attempt (NotStarted or InProgress: the first one, a retry, or a job whose worker
 * died). Every task starts again from NotStarted (each one skips what is already done on the machine).
 */
export function startAttempt(j: JobRecord, by: { processServerId: string; worker: string }, at = nowIso()): boolean {
  if (!isIn(j.state, ACTIVE)) return false;
  closeAbandonedAttempt(j, at);
  j.state = 'InProgress';
  j.startedAt ??= at;
  j.attempts += 1;
  j.attemptLog = [...(j.attemptLog ?? []), { attempt: j.attempts, startedAt: at, processServerId: by.processServerId, worker: by.worker }];
  for (const t of j.tasks) resetTask(t);
  j.errors = [];
  return true;
}

/** The previous attempt is still open: the worker running it died and stalled-job recovery brought the job back. */
function closeAbandonedAttempt(j: JobRecord, at: string): void {
  const previous = lastOpenAttempt(j);
  if (!previous) return;
  closeAttempt(j, at, redactedJobError(new PushError(Codes.ConnectionLost, { reason: `worker ${previous.worker} stopped during the attempt` }, {
    message: 'The process server running this attempt stopped; the job was taken up again.', retryable: true,
  })));
}

function resetTask(t: Task): void {
  t.state = 'NotStarted';
  delete t.startedAt;
  delete t.endedAt;
  delete t.message;
  t.errors = [];
}

/** A running attempt failed with a transient error and BullMQ runs another at `retryAt`: the job stays InProgress. */
export function scheduleRetry(j: JobRecord, error: JobError, retryAt: string, at = nowIso()): boolean {
  if (j.state !== 'InProgress') return false;
  closeAttempt(j, at, error, retryAt);
  j.errors = [error];
  return true;
}

/** A running job ends: Succeeded or Warning (errors are the warnings) or Failed (errors[0] failed the attempt). */
export function completeJob(j: JobRecord, end: { state: 'Succeeded' | 'Warning' | 'Failed'; errors: JobError[] }, at = nowIso()): boolean {
  if (j.state !== 'InProgress') return false;
  endJob(j, end.state, end.errors, at);
  closeAttempt(j, at, end.state === 'Failed' ? end.errors[0] : undefined);
  return true;
}

/**
 * BullMQ gave up on a job whose workers kept dying (it stalled too often): the job ends Failed with the
 * error, whether it was queued again or still marked as running.
 */
export function failStalledJob(j: JobRecord, error: JobError, at = nowIso()): boolean {
  if (!isIn(j.state, ACTIVE)) return false;
  endJob(j, 'Failed', [error], at);
  closeAttempt(j, at, error);
  return true;
}

/**
 * The worker shuts down while the job runs: the job goes back to NotStarted (another worker, or this one
 * after a restart, runs it again from the start); its running or cancelled tasks go back to NotStarted.
 * The attempt log keeps the hand-back and its reason; like the queue, the record does not count it as an
 * attempt (the next one has the same number).
 */
export function handBack(j: JobRecord, reason: string, at = nowIso()): boolean {
  if (j.state !== 'InProgress') return false;
  j.state = 'NotStarted';
  const last = lastOpenAttempt(j);
  closeAttempt(j, at);
  if (last) { last.handedBack = reason; j.attempts -= 1; }
  for (const t of j.tasks) if (t.state === 'InProgress' || t.state === 'Cancelled') t.state = 'NotStarted';
  return true;
}

// ---- cancel ----

/** A user asked to cancel a job that has not ended (the job ends Cancelled when it is next seen or aborted). */
export function requestCancel(j: JobRecord): boolean {
  if (!isIn(j.state, ACTIVE)) return false;
  j.cancelRequested = true;
  return true;
}

/**
 * A job that has not ended is cancelled: queued or retry-delayed (nothing runs it), or aborted by its
 * worker (then `error` says why). Its running and unstarted tasks end Cancelled.
 */
export function cancelJob(j: JobRecord, error?: JobError, at = nowIso()): boolean {
  if (!isIn(j.state, ACTIVE)) return false;
  endJob(j, 'Cancelled', error ? [error] : j.errors, at);
  for (const t of j.tasks) {
    if (t.state === 'InProgress') { t.state = 'Cancelled'; t.endedAt = at; }
    else if (t.state === 'NotStarted') t.state = 'Cancelled';
  }
  closeAttempt(j, at);
  return true;
}

function endJob(j: JobRecord, state: JobState, errors: JobError[], at: string): void {
  j.state = state;
  j.endedAt = at;
  j.errors = errors;
  delete j.cancelRequested;
}

function lastOpenAttempt(j: JobRecord): AttemptLogEntry | undefined {
  const last = j.attemptLog?.[j.attemptLog.length - 1];
  return last && !last.endedAt ? last : undefined;
}

function closeAttempt(j: JobRecord, at: string, error?: JobError, retryAt?: string): void {
  const last = lastOpenAttempt(j);
  if (!last) return;
  last.endedAt = at;
  if (error) last.error = error;
  if (retryAt) last.retryAt = retryAt;
}

// ---- tasks (only while an attempt runs: the job is InProgress) ----

function runningTask(j: JobRecord, name: TaskName, allowed: readonly TaskState[] | 'any'): Task | undefined {
  const task = j.tasks.find((t) => t.name === name);
  if (!task) throw new Error(`job ${j.id} has no task ${name}`);
  if (j.state !== 'InProgress') return undefined;
  return allowed === 'any' || isIn(task.state, allowed) ? task : undefined;
}

/** A task starts (from NotStarted). */
export function startTask(j: JobRecord, name: TaskName, at = nowIso()): boolean {
  const t = runningTask(j, name, ['NotStarted']);
  if (!t) return false;
  t.state = 'InProgress';
  t.startedAt = at;
  delete t.endedAt;
  t.errors = [];
  return true;
}

/** A task's work returned: Succeeded, unless the pipeline already ended the task itself (e.g. Warning). */
export function finishTask(j: JobRecord, name: TaskName, at = nowIso()): boolean {
  const t = runningTask(j, name, ['InProgress']);
  if (!t) return false;
  t.state = 'Succeeded';
  t.endedAt = at;
  return true;
}

/** A task ends in the given state (its work failed or was cancelled, or the pipeline ends or skips it). */
export function endTask(j: JobRecord, name: TaskName, end: TaskEnd, at = nowIso()): boolean {
  const t = runningTask(j, name, TASK_ENDABLE);
  if (!t) return false;
  t.state = end.state;
  t.startedAt ??= at;
  t.endedAt = at;
  if (end.error) t.errors = [end.error];
  if (end.message) t.message = end.message;
  return true;
}

/** A note on a task (shown as its message), in whatever state the task is. */
export function noteTask(j: JobRecord, name: TaskName, message: string): boolean {
  const t = runningTask(j, name, 'any');
  if (!t) return false;
  t.message = message;
  return true;
}
