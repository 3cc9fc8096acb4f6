// The failures around a job, told apart by type: abort reasons, BullMQ giving up on a stalled job, and
// anything thrown turned into a catalogue error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { abortedForShutdown, CancelledByUser, StalledTooOften, toPushError, WorkerShutdown } from '../../src/jobs/failures.ts';

function aborted(reason: unknown): AbortSignal {
  const c = new AbortController();
  c.abort(reason);
  return c.signal;
}

describe('job failures', () => {
  it('a shutdown is told from a cancel by the abort reason\'s type, not its message', () => {
    assert.equal(abortedForShutdown(aborted(new WorkerShutdown())), true);
    assert.equal(abortedForShutdown(aborted(new CancelledByUser('j1'))), false);
    assert.equal(abortedForShutdown(aborted(new Error('shutdown'))), false);
    assert.equal(abortedForShutdown(new AbortController().signal), false);
  });

  it('BullMQ gave up on a job when it carries a deferred failure, whatever the message says', () => {
    const stalled = StalledTooOften.of({ deferredFailure: 'job stalled more than allowable limit' } as Job);
    assert.ok(stalled instanceof StalledTooOften);
    assert.deepEqual(
      { code: stalled.toJobError().code, message: stalled.toJobError().message, details: stalled.toJobError().details },
      { code: Codes.Internal, message: 'The job could not be completed: job stalled more than allowable limit', details: { reason: 'job stalled more than allowable limit' } },
    );
    assert.equal(StalledTooOften.of({ failedReason: '99099: stalled connection' } as Job), null, 'our own failures are not taken for a stall');
  });

  it('anything thrown becomes a catalogue error; an aborted job\'s failure is a cancel', () => {
    const e = new PushError(Codes.Unreachable);
    assert.equal(toPushError(e, aborted(new CancelledByUser('j'))), e);
    assert.equal(toPushError(new Error('boom'), aborted(new WorkerShutdown())).code, Codes.Cancelled);
    const internal = toPushError(new Error('boom'));
    assert.equal(internal.code, Codes.Internal);
    assert.deepEqual(internal.details, { cause: 'boom' });
  });
});
