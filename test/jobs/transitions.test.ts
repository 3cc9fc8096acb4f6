// The job state machine as pure functions (no Redis): each transition's effect on the record, and that
// it refuses (returns false, changing nothing) every state it may not start from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOB_STATES, TASK_STATES, type JobError, type JobRecord, type JobState, type TaskState } from '../../src/domain/job.ts';
import {
  cancelJob, completeJob, endTask, failStalledJob, finishTask, handBack, newJob, noteTask, requestCancel, scheduleRetry, startAttempt, startTask,
} from '../../src/jobs/transitions.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const T1 = '2030-01-01T00:01:00.000Z';
const T2 = '2030-01-01T00:02:00.000Z';
const BY = { processServerId: 'cs', worker: 'host:1:abcd' };

function jobError(code: number, message = `error ${code}`): JobError {
  return { code, message, possibleCauses: '', recommendedAction: '', retryable: false };
}

function fresh(): JobRecord {
  return newJob({ type: 'enable-replication', processServerId: 'cs', machine: { machineId: 'vm-1', address: '10.0.0.1', os: { family: 'linux' }, runAsAccountId: 'acct' } }, T0);
}

function running(): JobRecord {
  const j = fresh();
  assert.ok(startAttempt(j, BY, T1));
  return j;
}

function inState(state: JobState): JobRecord {
  const j = running();
  j.state = state;
  return j;
}

/** Asserts the transition refuses the record: false, and the record is untouched. */
function refuses(j: JobRecord, transition: (j: JobRecord) => boolean): void {
  const before = structuredClone(j);
  assert.equal(transition(j), false, `refused from ${j.state}`);
  assert.deepEqual(j, before);
}

function allowedFrom(states: readonly JobState[], transition: (j: JobRecord) => boolean): void {
  for (const s of JOB_STATES) {
    if (states.includes(s)) assert.equal(transition(inState(s)), true, `allowed from ${s}`);
    else refuses(inState(s), transition);
  }
}

describe('newJob', () => {
  it('is NotStarted with every task of its type NotStarted, and keeps the request', () => {
    const j = newJob({ type: 'readiness-check', processServerId: 'ps2', restartOf: 'old', machine: { machineId: 'vm', address: 'h', os: { family: 'windows' }, runAsAccountId: 'a' } }, T0);
    assert.equal(j.state, 'NotStarted');
    assert.deepEqual(j.tasks.map((t) => [t.name, t.state]), [['ConnectivityCheck', 'NotStarted'], ['PrerequisiteCheck', 'NotStarted']]);
    assert.deepEqual(j.machine, { machineId: 'vm', displayName: 'vm', address: 'h', os: { family: 'windows' } });
    assert.equal(j.request.processServerId, 'ps2');
    assert.equal(j.restartOf, 'old');
    assert.equal(j.createdAt, T0);
    assert.equal(j.attempts, 0);
    assert.notEqual(newJob({ type: 'readiness-check', processServerId: 'x', machine: j.request }).id, j.id);
  });
});

describe('startAttempt', () => {
  it('from NotStarted: InProgress, attempt 1 logged', () => {
    const j = running();
    assert.equal(j.state, 'InProgress');
    assert.equal(j.startedAt, T1);
    assert.equal(j.attempts, 1);
    assert.deepEqual(j.attemptLog, [{ attempt: 1, startedAt: T1, processServerId: 'cs', worker: 'host:1:abcd' }]);
  });

  it('a retry resets every task and the job errors, keeps the first start time', () => {
    const j = running();
    startTask(j, 'CopyInstaller', T1);
    endTask(j, 'CopyInstaller', { state: 'Failed', error: jobError(95117), message: 'x' }, T1);
    scheduleRetry(j, jobError(95117), T2, T1);
    assert.ok(startAttempt(j, { processServerId: 'cs', worker: 'other:2:ef' }, T2));
    assert.equal(j.startedAt, T1);
    assert.equal(j.attempts, 2);
    assert.deepEqual(j.errors, []);
    assert.deepEqual(j.tasks.find((t) => t.name === 'CopyInstaller'), { name: 'CopyInstaller', state: 'NotStarted', errors: [] });
    assert.equal(j.attemptLog?.[0]?.error?.code, 95117, 'the retried attempt keeps its error');
    assert.equal(j.attemptLog?.[1]?.worker, 'other:2:ef');
  });

  it('closes an attempt left open by a worker that died, as lost (97118, retryable)', () => {
    const j = running();
    assert.ok(startAttempt(j, BY, T2));
    const [dead, next] = j.attemptLog ?? [];
    assert.equal(dead?.endedAt, T2);
    assert.equal(dead?.error?.code, 97118);
    assert.equal(dead?.error?.retryable, true);
    assert.match(dead?.error?.message ?? '', /process server running this attempt stopped/);
    assert.match(String(dead?.error?.details?.reason), /worker host:1:abcd stopped/);
    assert.equal(next?.endedAt, undefined);
  });

  it('refuses an ended job', () => allowedFrom(['NotStarted', 'InProgress'], (j) => startAttempt(j, BY, T2)));
});

describe('completeJob', () => {
  it('Succeeded: ends the job and its attempt, drops a late cancel request', () => {
    const j = running();
    j.cancelRequested = true;
    assert.ok(completeJob(j, { state: 'Succeeded', errors: [] }, T2));
    assert.equal(j.state, 'Succeeded');
    assert.equal(j.endedAt, T2);
    assert.equal(j.cancelRequested, undefined);
    assert.deepEqual(j.attemptLog?.[0], { ...BY, attempt: 1, startedAt: T1, endedAt: T2 });
  });

  it('Warning: the warnings are the job errors, the attempt has none', () => {
    const j = running();
    assert.ok(completeJob(j, { state: 'Warning', errors: [jobError(95300)] }, T2));
    assert.equal(j.state, 'Warning');
    assert.deepEqual(j.errors.map((e) => e.code), [95300]);
    assert.equal(j.attemptLog?.[0]?.error, undefined);
  });

  it('Failed: the error ends the job and its attempt', () => {
    const j = running();
    assert.ok(completeJob(j, { state: 'Failed', errors: [jobError(95108)] }, T2));
    assert.equal(j.state, 'Failed');
    assert.equal(j.attemptLog?.[0]?.error?.code, 95108);
  });

  it('only a running job completes', () => allowedFrom(['InProgress'], (j) => completeJob(j, { state: 'Succeeded', errors: [] }, T2)));
});

describe('scheduleRetry', () => {
  it('closes the attempt with its error and retry time; the job stays InProgress', () => {
    const j = running();
    assert.ok(scheduleRetry(j, jobError(95117), T2, T1));
    assert.equal(j.state, 'InProgress');
    assert.deepEqual(j.errors.map((e) => e.code), [95117]);
    assert.equal(j.attemptLog?.[0]?.retryAt, T2);
    assert.equal(j.attemptLog?.[0]?.endedAt, T1);
  });

  it('only a running job is retried', () => allowedFrom(['InProgress'], (j) => scheduleRetry(j, jobError(1), T2, T1)));
});

describe('cancel', () => {
  it('requestCancel marks a job that has not ended', () => {
    const j = fresh();
    assert.ok(requestCancel(j));
    assert.equal(j.cancelRequested, true);
    allowedFrom(['NotStarted', 'InProgress'], requestCancel);
  });

  it('a queued job: Cancelled, every task Cancelled, no error', () => {
    const j = fresh();
    requestCancel(j);
    assert.ok(cancelJob(j, undefined, T1));
    assert.equal(j.state, 'Cancelled');
    assert.equal(j.endedAt, T1);
    assert.equal(j.cancelRequested, undefined);
    assert.deepEqual(j.errors, []);
    assert.ok(j.tasks.every((t) => t.state === 'Cancelled' && t.endedAt === undefined));
  });

  it('a running job: its running task ends Cancelled, finished ones stay, the attempt closes, the error is kept', () => {
    const j = running();
    startTask(j, 'CopyInstaller', T1);
    finishTask(j, 'CopyInstaller', T1);
    startTask(j, 'PrerequisiteCheck', T1);
    assert.ok(cancelJob(j, jobError(99008), T2));
    assert.deepEqual(j.tasks.map((t) => t.state), ['Succeeded', 'Cancelled', 'Cancelled', 'Cancelled', 'Cancelled']);
    assert.equal(j.tasks[1]?.endedAt, T2);
    assert.equal(j.tasks[2]?.endedAt, undefined);
    assert.deepEqual(j.errors.map((e) => e.code), [99008]);
    assert.equal(j.attemptLog?.[0]?.endedAt, T2);
    assert.equal(j.attemptLog?.[0]?.error, undefined);
  });

  it('an ended job is not cancelled', () => allowedFrom(['NotStarted', 'InProgress'], (j) => cancelJob(j, undefined, T2)));
});

describe('handBack', () => {
  it('NotStarted again: the attempt closes without error, running and cancelled tasks go back to NotStarted', () => {
    const j = running();
    startTask(j, 'CopyInstaller', T1);
    finishTask(j, 'CopyInstaller', T1);
    startTask(j, 'PrerequisiteCheck', T1);
    endTask(j, 'PrerequisiteCheck', { state: 'Cancelled', error: jobError(99008) }, T1);
    startTask(j, 'InstallMobilityService', T1);
    const attempts = j.attempts;
    assert.ok(handBack(j, 'the worker is shutting down', T2));
    assert.equal(j.state, 'NotStarted');
    assert.equal(j.attempts, attempts - 1, 'a handed-back attempt is not counted');
    assert.equal(j.attemptLog?.[0]?.handedBack, 'the worker is shutting down');
    assert.deepEqual(j.tasks.map((t) => t.state), ['Succeeded', 'NotStarted', 'NotStarted', 'NotStarted', 'NotStarted']);
    assert.equal(j.attemptLog?.[0]?.endedAt, T2);
    assert.equal(j.attemptLog?.[0]?.error, undefined);
  });

  it('only a running job is handed back', () => allowedFrom(['InProgress'], (j) => handBack(j, 'test', T2)));
});

describe('failStalledJob', () => {
  it('ends the job and its open attempt Failed with the error', () => {
    const j = running();
    assert.ok(failStalledJob(j, jobError(99099), T2));
    assert.equal(j.state, 'Failed');
    assert.equal(j.endedAt, T2);
    assert.deepEqual(j.errors.map((e) => e.code), [99099]);
    assert.equal(j.attemptLog?.[0]?.error?.code, 99099);
  });

  it('an ended job is left as it ended', () => allowedFrom(['NotStarted', 'InProgress'], (j) => failStalledJob(j, jobError(99099), T2)));
});

describe('tasks', () => {
  const task = (j: JobRecord, name = 'CopyInstaller') => j.tasks.find((t) => t.name === name);
  function taskIn(state: TaskState): JobRecord {
    const j = running();
    (task(j) as { state: TaskState }).state = state;
    return j;
  }
  function taskAllowedFrom(states: readonly TaskState[], transition: (j: JobRecord) => boolean): void {
    for (const s of TASK_STATES) {
      if (states.includes(s)) assert.equal(transition(taskIn(s)), true, `allowed from task state ${s}`);
      else refuses(taskIn(s), transition);
    }
    for (const s of JOB_STATES.filter((x) => x !== 'InProgress')) {
      const j = taskIn(states[0] as TaskState);
      j.state = s;
      refuses(j, transition);
    }
  }

  it('start: InProgress with its start time, no errors', () => {
    const j = running();
    assert.ok(startTask(j, 'CopyInstaller', T2));
    assert.deepEqual(task(j), { name: 'CopyInstaller', state: 'InProgress', startedAt: T2, errors: [] });
    taskAllowedFrom(['NotStarted'], (x) => startTask(x, 'CopyInstaller', T2));
  });

  it('finish: Succeeded when still InProgress (a task the pipeline ended itself keeps its state)', () => {
    const j = running();
    startTask(j, 'CopyInstaller', T1);
    assert.ok(finishTask(j, 'CopyInstaller', T2));
    assert.equal(task(j)?.state, 'Succeeded');
    assert.equal(task(j)?.endedAt, T2);
    const warned = running();
    startTask(warned, 'CopyInstaller', T1);
    endTask(warned, 'CopyInstaller', { state: 'Warning', error: jobError(95300) }, T1);
    refuses(warned, (x) => finishTask(x, 'CopyInstaller', T2));
    taskAllowedFrom(['InProgress'], (x) => finishTask(x, 'CopyInstaller', T2));
  });

  it('end: any end state, with error and message; an unstarted task gets a start time', () => {
    for (const state of ['Succeeded', 'Warning', 'Failed', 'Cancelled', 'Skipped'] as const) {
      const j = running();
      assert.ok(endTask(j, 'InstallVssProvider', { state, error: jobError(1), message: 'why' }, T2));
      assert.deepEqual(task(j, 'InstallVssProvider'), { name: 'InstallVssProvider', state, startedAt: T2, endedAt: T2, message: 'why', errors: [jobError(1)] });
    }
    const j = running();
    startTask(j, 'CopyInstaller', T1);
    endTask(j, 'CopyInstaller', { state: 'Failed' }, T2);
    assert.equal(task(j)?.startedAt, T1);
    assert.deepEqual(task(j)?.errors, []);
    assert.equal(task(j)?.message, undefined);
  });

  it('end: from NotStarted, InProgress, Succeeded (then skipped) or Warning (then failed); a failed, cancelled or skipped task stays so', () => {
    taskAllowedFrom(['NotStarted', 'InProgress', 'Succeeded', 'Warning'], (x) => endTask(x, 'CopyInstaller', { state: 'Skipped', message: 'm' }, T2));
  });

  it('note: in any task state while the job runs', () => {
    const j = running();
    assert.ok(noteTask(j, 'CopyInstaller', 'copy skipped'));
    assert.equal(task(j)?.message, 'copy skipped');
    taskAllowedFrom([...TASK_STATES], (x) => noteTask(x, 'CopyInstaller', 'n'));
  });

  it('a task the job does not have is a programming error', () => {
    assert.throws(() => startTask(running(), 'UninstallMobilityService'), /has no task UninstallMobilityService/);
  });
});
