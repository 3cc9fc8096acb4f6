// Retention against a real Redis, records created directly through the store (no guests): 5,000 final
// jobs with a retention of a few seconds are removed (record, event stream, log, index entries, counts)
// and Redis' used_memory returns to its baseline; a job active for longer than the retention is untouched;
// only one sweeper (the leader) works at a time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobRecord } from '../../src/domain/job.ts';
import { RetentionSweeper } from '../../src/jobs/retention.ts';
import { JobStore } from '../../src/jobs/store.ts';
import { cancelJob, completeJob, newJob, startAttempt } from '../../src/jobs/transitions.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';

const RETENTION_SEC = 3;
const DAYS = RETENTION_SEC / 86_400;
const by = { processServerId: 'cs', worker: 'test' };

describe('job retention', () => {
  let redis: LabRedis;
  let conn: Redis;
  let store: JobStore;

  before(async () => {
    redis = await startLabRedis();
    conn = createRedis(redis.url, 'worker');
    store = new JobStore(conn);
  });

  after(async () => {
    conn?.disconnect();
    await redis?.stop();
  });

  const sweeper = (instance: string) => new RetentionSweeper(store, conn, instance, DAYS, createLogger('silent'));

  async function finalJobs(n: number, prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < n; start += 200) {
      await Promise.all(Array.from({ length: Math.min(200, n - start) }, async (_, k) => {
        const i = start + k;
        const job = newJob({ type: 'readiness-check', processServerId: 'cs', machine: { machineId: `${prefix}-${i}`, address: `${prefix}-${i}.example`, os: { family: 'linux' }, runAsAccountId: 'acct' } });
        await store.create(job);
        await store.appendLog(job.id, `line of ${job.id}`);
        if (i % 2 === 0) await store.update(job.id, (j) => cancelJob(j));
        else {
          await store.update(job.id, (j) => startAttempt(j, by));
          await store.update(job.id, (j) => completeJob(j, { state: 'Succeeded', errors: [] }));
        }
        ids.push(job.id);
      }));
    }
    return ids;
  }

  async function usedMemory(): Promise<number> {
    const info = await conn.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1]);
  }

  /**
   * Redis shrinks its emptied key tables in its cron (and frees lazily): read once it has had a few
   * cycles, then keep reading (up to 20 s, a loaded machine runs the cron late) until `done` accepts the
   * value or it stops moving.
   */
  async function settle(done: (used: number) => boolean = () => false): Promise<number> {
    await new Promise((r) => setTimeout(r, 1500));
    let used = await usedMemory();
    for (const end = Date.now() + 20_000; !done(used) && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 1000));
      const next = await usedMemory();
      if (next === used) break;
      used = next;
    }
    return used;
  }

  it('5,000 final jobs past their retention are removed and memory returns to its baseline; an active job stays', async () => {
    // The baseline is a store that has been through one such round: scripts cached, counters present, and
    // the job index's own hash table (which Redis grows but never shrinks) at the size 5,000 jobs need.
    await finalJobs(5000, 'warm');
    await new Promise((r) => setTimeout(r, RETENTION_SEC * 1000));
    await sweeper('warm').sweep();
    const baseline = await settle();

    const active: JobRecord = newJob({ type: 'readiness-check', processServerId: 'cs', machine: { machineId: 'long', address: 'long.example', os: { family: 'linux' }, runAsAccountId: 'acct' } });
    await store.create(active);
    await store.update(active.id, (j) => startAttempt(j, by));
    await store.appendLog(active.id, 'still installing');

    const ids = await finalJobs(5000, 'vm');
    const peak = await usedMemory();
    assert.equal((await store.list({}, 10_000)).jobs.length, 5001);

    const s = sweeper('leader');
    s.start();
    try {
      const end = Date.now() + 60_000;
      while ((await conn.zcard('pi:jobs:ended')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    } finally {
      await s.stop();
    }
    const afterSweep = await settle((used) => Math.abs(used - baseline) <= baseline * 0.1);
    process.stdout.write(`# used_memory baseline ${baseline}, with 5,000 final jobs ${peak}, after the sweep ${afterSweep}\n`);
    assert.ok(Math.abs(afterSweep - baseline) <= baseline * 0.1, `used_memory ${afterSweep} is not within 10% of the baseline ${baseline}`);

    for (const id of ids.slice(0, 50)) {
      assert.equal(await store.get(id), null);
      assert.equal(await conn.exists(`pi:job:${id}`, `pi:job:${id}:events`, `pi:job:${id}:log`), 0);
    }
    // The active job is older than the retention and untouched; the list and its cursor see only it.
    const kept = await store.get(active.id);
    assert.equal(kept?.state, 'InProgress');
    assert.deepEqual((await store.log(active.id)).map((l) => l.replace(/^\S+ /, '')), ['still installing']);
    assert.ok((await store.events({ jobId: active.id })).length > 0);
    const page = await store.list({}, 1);
    assert.deepEqual(page.jobs.map((j) => j.id), [active.id]);
    assert.deepEqual((await store.list({}, 10, page.nextCursor ?? undefined)).jobs, []);
    assert.equal(await conn.zcard('pi:jobs'), 1);
    const counts = await store.countsByState();
    assert.equal(counts.InProgress, 1);
    assert.equal(counts.Succeeded ?? 0, 0);
    assert.equal(counts.Cancelled ?? 0, 0);

    // Once it ends, it is kept for the retention period, then removed.
    await store.update(active.id, (j) => completeJob(j, { state: 'Succeeded', errors: [] }));
    assert.equal(await sweeper('leader').sweep(), 0);
    await new Promise((r) => setTimeout(r, RETENTION_SEC * 1000 + 100));
    assert.equal(await sweeper('leader').sweep(), 1);
    assert.equal(await store.get(active.id), null);
  });

  it('one leader at a time: a second sweeper does nothing while the first holds the lease', async () => {
    await finalJobs(10, 'lead');
    await new Promise((r) => setTimeout(r, RETENTION_SEC * 1000 + 100));
    const first = sweeper('first');
    await conn.del('pi:retention-leader');
    // The first takes the lease (nothing to do yet at that instant is fine: it holds it afterwards).
    await conn.zadd('pi:retention-leader', String(Date.now() + 60_000), 'first');
    assert.equal(await sweeper('second').sweep(), 0);
    assert.equal(await conn.zcard('pi:jobs:ended'), 10);
    assert.equal(await first.sweep(), 10);
    await first.stop();
    assert.equal(await conn.zcard('pi:retention-leader'), 0);
  });

  it('jobs that ended before the ended index existed (an upgrade) are indexed once and expire too', async () => {
    const ids = await finalJobs(5, 'old');
    await conn.del('pi:jobs:ended', 'pi:jobs:ended:indexed');
    await new Promise((r) => setTimeout(r, RETENTION_SEC * 1000 + 100));
    assert.equal(await sweeper('leader').sweep(), 5);
    for (const id of ids) assert.equal(await store.get(id), null);
  });
});
