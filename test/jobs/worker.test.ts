// The worker against a real Redis with a scripted pipeline (no guest): an orphaned record (active, its
// queue entry gone) is queued again through the one producer and keeps JOB_RETRIES+1 attempts with
// backoff; a cancel through the channel and a shutdown abort the running job with typed reasons; a job
// BullMQ gives up on (stalled too often) ends Failed. A record under a vault key this process lacks is
// handed back without using an attempt while the key agreement says mismatch (and the worker pauses),
// and fails with 99025 only when this process holds the cluster's key (tampering).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import type { JobRecord } from '../../src/domain/job.ts';
import { VaultKeyNotHeld, type KeyAgreement, type KeyAgreementView } from '../../src/accounts/key-agreement.ts';
import type { PipelineRunner } from '../../src/jobs/attempt.ts';
import { publishCancel } from '../../src/jobs/cancel-channel.ts';
import { CancelledByUser, WorkerShutdown } from '../../src/jobs/failures.ts';
import { LeaseSet } from '../../src/jobs/leases.ts';
import { ProcessServerRegistry } from '../../src/jobs/process-servers.ts';
import { BULL_PREFIX, queueName, Queues } from '../../src/jobs/queues.ts';
import { JobStore } from '../../src/jobs/store.ts';
import { newJob, requestCancel, startAttempt } from '../../src/jobs/transitions.ts';
import { PushWorker, type WorkerOptions } from '../../src/jobs/worker.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { PipelineDeps } from '../../src/pipeline/deps.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';

const RETRIES = 2;
const BACKOFF_MS = 50;

describe('worker', () => {
  let redis: LabRedis;
  let conn: Redis;
  let store: JobStore;
  let queues: Queues;
  const opened: Array<{ stop(): Promise<void> }> = [];

  before(async () => {
    redis = await startLabRedis();
    conn = createRedis(redis.url, 'worker');
    store = new JobStore(conn);
    queues = new Queues(conn, { attempts: RETRIES + 1, backoffMs: BACKOFF_MS });
  });

  after(async () => {
    for (const o of opened.splice(0)) await o.stop().catch(() => undefined);
    await queues?.close();
    conn?.disconnect();
    await redis?.stop();
  });

  async function startWorker(processServerId: string, runPipeline: PipelineRunner, options: Partial<WorkerOptions> = {}, keyAgreement?: KeyAgreementView): Promise<PushWorker> {
    const subscriber = createRedis(redis.url, 'blocking');
    // The heartbeat publishes the repository's installers and CS_VERSION; the scripted pipeline needs nothing else.
    const pipeline = { repository: { installers: () => [] }, settings: {} } as unknown as PipelineDeps;
    const worker = new PushWorker({
      connection: conn, subscriber, store, queues, registry: new ProcessServerRegistry(conn), slots: new LeaseSet(conn, 'pi:global-slots', 0),
      pipeline, logger: createLogger('silent'), runPipeline, keyAgreement,
    }, { processServerId, concurrency: 2, processServerConcurrency: 0, lockDurationMs: 5000, shutdownGraceMs: 200, ...options });
    await worker.start();
    opened.push({ stop: async () => { await worker.stop(); subscriber.disconnect(); } });
    return worker;
  }

  async function createJob(processServerId: string, machineId: string, createdAt?: string): Promise<JobRecord> {
    const record = newJob({ type: 'readiness-check', processServerId, machine: { machineId, address: `${machineId}.example`, os: { family: 'linux' }, runAsAccountId: 'acct' } }, createdAt);
    assert.ok((await store.create(record)).created);
    return record;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const ended = (id: string) => until(`job ${id} to end`, async () => {
    const j = await store.get(id);
    return j && ['Succeeded', 'Warning', 'Failed', 'Cancelled'].includes(j.state) ? j : undefined;
  });

  /** A pipeline that waits until its job is aborted and reports the abort reason. */
  function waitForAbort(reasons: unknown[]): PipelineRunner {
    return async (ctx) => {
      await ctx.task('ConnectivityCheck', () => new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => { reasons.push(ctx.signal.reason); reject(ctx.signal.reason); });
      }));
      return { state: 'Succeeded', warnings: [] };
    };
  }

  it('a recovered orphan is queued again with JOB_RETRIES+1 attempts and backoff, and its transient failure is retried', async () => {
    const long = new Date(Date.now() - 60_000).toISOString();
    // A worker died mid-attempt and the queue entry was lost with it (e.g. an AOF tail).
    const orphan = await createJob('ps-orphan', 'vm-orphan', long);
    await store.update(orphan.id, (j) => startAttempt(j, { processServerId: 'ps-orphan', worker: 'dead:1:0000' }));
    // Just created by the API, about to be queued: within the guard, left alone.
    const fresh = await createJob('ps-orphan', 'vm-fresh');
    let runs = 0;
    await startWorker('ps-orphan', async (ctx) => {
      runs += 1;
      if (runs === 1) await ctx.task('ConnectivityCheck', async () => { throw new PushError(Codes.Unreachable, { host: 'vm-orphan' }); });
      for (const t of ctx.job.tasks) await ctx.task(t.name, async () => undefined);
      return { state: 'Succeeded', warnings: [] };
    }, { orphanGraceMs: 10_000 });

    const entry = await queues.get('ps-orphan').getJob(orphan.id);
    assert.ok(entry, 'the orphan has a queue entry again');
    assert.equal(entry.opts.attempts, RETRIES + 1);
    assert.deepEqual(entry.opts.backoff, { type: 'exponential', delay: BACKOFF_MS });
    assert.deepEqual(entry.opts.removeOnComplete, { age: 3600, count: 5000 }, 'the same retention as a submit');

    const done = await ended(orphan.id);
    assert.equal(done.state, 'Succeeded', JSON.stringify(done, null, 2));
    assert.equal(runs, 2);
    assert.equal(done.attempts, 3, 'the dead attempt and two on this worker');
    const [dead, failed, last] = done.attemptLog ?? [];
    assert.equal(dead?.error?.code, Codes.ConnectionLost);
    assert.equal(failed?.error?.code, Codes.Unreachable);
    assert.ok(failed?.retryAt, 'the retry time is shown');
    assert.equal(last?.error, undefined);
    assert.ok((await store.log(orphan.id)).some((l) => l.includes('attempt 2 of 3 on process server ps-orphan')));

    assert.equal(await queues.has('ps-orphan', fresh.id), false, 'a record younger than the guard is not queued');
    assert.equal((await store.get(fresh.id))?.state, 'NotStarted');
  });

  it('a cancel published on the channel aborts the running job with CancelledByUser: it ends Cancelled (99008)', async () => {
    const reasons: unknown[] = [];
    await startWorker('ps-cancel', waitForAbort(reasons));
    const job = await createJob('ps-cancel', 'vm-cancel');
    await queues.enqueue('ps-cancel', job.id);
    await until('the task to run', async () => (await store.get(job.id))?.tasks[0]?.state === 'InProgress');
    await store.update(job.id, requestCancel);
    await publishCancel(conn, job.id);
    const done = await ended(job.id);
    assert.ok(reasons[0] instanceof CancelledByUser);
    assert.equal(done.state, 'Cancelled');
    assert.deepEqual(done.errors.map((e) => e.code), [Codes.Cancelled]);
    assert.deepEqual(done.tasks.map((t) => t.state), ['Cancelled', 'Cancelled']);
    assert.ok(done.attemptLog?.[0]?.endedAt);
  });

  it('a shutdown past its grace aborts the running job with WorkerShutdown: it is handed back, not ended', async () => {
    const reasons: unknown[] = [];
    const worker = await startWorker('ps-stop', waitForAbort(reasons));
    const job = await createJob('ps-stop', 'vm-stop');
    await queues.enqueue('ps-stop', job.id);
    await until('the task to run', async () => (await store.get(job.id))?.tasks[0]?.state === 'InProgress');
    await worker.stop();
    assert.ok(reasons[0] instanceof WorkerShutdown);
    const back = await store.get(job.id);
    assert.equal(back?.state, 'NotStarted', JSON.stringify(back));
    assert.deepEqual(back?.tasks.map((t) => t.state), ['NotStarted', 'NotStarted']);
    assert.ok(back?.attemptLog?.[0]?.endedAt);
    assert.ok(['delayed', 'waiting'].includes(String(await (await queues.get('ps-stop').getJob(job.id))?.getState())), 'back on the queue');
    assert.ok((await store.log(job.id)).some((l) => l.includes('is shutting down: job handed back to the queue')));
  });

  it('a job BullMQ gave up on (stalled too often) ends Failed without running the pipeline', async () => {
    const job = await createJob('ps-stalled', 'vm-stalled');
    await store.update(job.id, (j) => startAttempt(j, { processServerId: 'ps-stalled', worker: 'dead:2:0000' }));
    await queues.enqueue('ps-stalled', job.id);
    // What BullMQ's stalled-job check writes when a job stalled more than maxStalledCount times.
    await conn.hset(`${BULL_PREFIX}:${queueName('ps-stalled')}:${job.id}`, 'defa', 'job stalled more than allowable limit');
    let runs = 0;
    await startWorker('ps-stalled', async () => { runs += 1; return { state: 'Succeeded', warnings: [] }; });
    const done = await ended(job.id);
    assert.equal(runs, 0);
    assert.equal(done.state, 'Failed');
    assert.equal(done.errors[0]?.code, Codes.Internal);
    assert.equal(done.errors[0]?.message, 'The job could not be completed: job stalled more than allowable limit');
    assert.equal(done.attemptLog?.[0]?.error?.code, Codes.Internal);
  });

  /** A key agreement a test sets by hand (checkNow tells the listeners, as the daemon's monitor does). */
  function scriptedAgreement(initial: KeyAgreement): KeyAgreementView & { set(s: KeyAgreement): void } {
    let state = initial;
    const listeners: Array<(s: KeyAgreement) => void> = [];
    return {
      current: () => state,
      checkNow: async () => state,
      onChange: (l) => { listeners.push(l); },
      set(s) { state = s; for (const l of listeners) l(s); },
    };
  }
  const undecryptable = new PushError(Codes.VaultUndecryptable, { runAsAccountId: 'acct' });

  it('a record under a vault key this process lacks: handed back without an attempt while mismatched; the worker resumes once agreed', async () => {
    const agreement = scriptedAgreement({ agreed: true, activeKeyId: 'aaaa' });
    let runs = 0;
    await startWorker('ps-key', async (ctx) => {
      runs += 1;
      if (runs === 1) {
        // The key was rotated elsewhere between the last check and this job.
        agreement.set({ agreed: false, activeKeyId: 'bbbb', missing: ['bbbb'], reason: 'VAULT_KEY_FILE x holds vault key aaaa but ...' });
        throw new VaultKeyNotHeld('bbbb', undecryptable);
      }
      for (const t of ctx.job.tasks) await ctx.task(t.name, async () => undefined);
      return { state: 'Succeeded', warnings: [] };
    }, {}, agreement);
    const job = await createJob('ps-key', 'vm-key');
    await queues.enqueue('ps-key', job.id);
    await until('the hand-back', async () => (await store.log(job.id)).some((l) => l.includes('lacks the cluster\'s vault key bbbb: job handed back to the queue')));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(runs, 1, 'the paused worker takes no job');
    const back = await store.get(job.id);
    assert.equal(back?.state, 'NotStarted');
    assert.equal((await queues.get('ps-key').getJob(job.id))?.attemptsMade, 0, 'no attempt used');
    agreement.set({ agreed: true, activeKeyId: 'bbbb' });
    const done = await ended(job.id);
    assert.equal(done.state, 'Succeeded', JSON.stringify(done, null, 2));
    assert.equal(runs, 2);
  });

  it('a record under an unknown key while this process holds the cluster\'s key is tampered: 99025', async () => {
    await startWorker('ps-tamper', async () => { throw new VaultKeyNotHeld('ffff', undecryptable); }, {}, scriptedAgreement({ agreed: true, activeKeyId: 'aaaa' }));
    const job = await createJob('ps-tamper', 'vm-tamper');
    await queues.enqueue('ps-tamper', job.id);
    const done = await ended(job.id);
    assert.equal(done.state, 'Failed');
    assert.deepEqual(done.errors.map((e) => e.code), [Codes.VaultUndecryptable]);
  });
});
