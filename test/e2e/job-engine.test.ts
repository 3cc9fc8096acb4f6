// The job engine against real Redis and lab guests: retries of transient faults, cancel (queued and
// mid-copy, with guest clean-up), restart, dedup, the global concurrency cap, and the SSE change log
// that a reconnecting client reads from its cursor without missing anything.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from '../lab/fault-proxy.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import type { JobStreamEvent } from '../../src/api/views.ts';
import { createLinuxAccount, enable, machineFor, startLab, task, until, waitForJob, type JobBody, type Lab } from './fixtures.ts';


interface SseEvent extends JobStreamEvent { id: string }

/** Collects events of a stream (as SseEvent: `id` is the cursor) until `stop` says so or the stream ends; leaving closes it. */
async function readEvents(stream: AsyncIterable<JobStreamEvent>, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const ev of stream) {
    events.push({ ...ev, id: ev.cursor });
    if (stop(events)) break;
  }
  return events;
}

describe('job engine', () => {
  let lab: Lab;
  let guest: LinuxGuest;
  let slowGuest: LinuxGuest;
  let proxy: FaultProxy;
  let account: string;

  before(async () => {
    lab = await startLab({
      installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0', padMiB: 24 }],
      env: { JOB_RETRIES: '4', JOB_BACKOFF_MS: '700', WORKER_CONCURRENCY: '4', GLOBAL_CONCURRENCY: '2' },
    });
    guest = await createLinuxGuest({ name: 'engine', behaviour: { passphrase: lab.daemon.passphrase } });
    slowGuest = await createLinuxGuest({ name: 'slow', behaviour: { passphrase: lab.daemon.passphrase } });
    proxy = await startFaultProxy({ host: '127.0.0.1', target: { host: slowGuest.address, port: slowGuest.port } });
    account = await createLinuxAccount(lab.daemon, guest.users.root);
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([guest?.destroy(), slowGuest?.destroy()]);
    await lab?.stop();
  });

  it('retries a transient fault (sshd down, back during the backoff) and succeeds; every attempt is in the job', async () => {
    await guest.stopSshd();
    const [sub] = await enable(lab.daemon, [machineFor(guest, account, { machineId: 'vm-retry' })]);
    const id = (sub as { id: string }).id;
    const firstFailure = await until('the first attempt to fail', async () => {
      const job = await lab.daemon.client.getJob(id);
      return job.attemptLog?.[0]?.error ? job : undefined;
    });
    assert.equal(firstFailure.attemptLog?.[0]?.error?.code, 95117);
    assert.ok(firstFailure.attemptLog?.[0]?.retryAt, 'the retry time is shown');
    assert.equal(firstFailure.state, 'InProgress', 'a job waiting for its retry stays in progress');
    await guest.startSshd();
    const done = await waitForJob<JobBody & { attemptLog: Array<{ attempt: number; error?: { code: number } }> }>(lab.daemon, id);
    assert.equal(done.state, 'Succeeded', JSON.stringify(done, null, 2));
    assert.ok(done.attempts >= 2);
    assert.equal(done.attemptLog.length, done.attempts);
    assert.ok(done.attemptLog.slice(0, -1).every((a) => a.error?.code === 95117));
    assert.equal(done.attemptLog[done.attemptLog.length - 1]?.error, undefined);
  });

  it('does not retry a bad password', async () => {
    const bad = await createLinuxAccount(lab.daemon, { name: guest.users.root.name, password: 'wrong-password-1' });
    const [sub] = await enable(lab.daemon, [machineFor(guest, bad, { machineId: 'vm-noretry' })]);
    const done = await waitForJob<JobBody>(lab.daemon, (sub as { id: string }).id);
    assert.equal(done.state, 'Failed');
    assert.equal(done.errors[0]?.code, 95108);
    assert.equal(done.attempts, 1);
  });

  it('cancel during a slow copy aborts it promptly, cleans the guest, and ends Cancelled; restart runs it again', async () => {
    proxy.setRate(1024 * 1024); // 1 MiB/s: the 24 MiB installer takes ~24 s
    const machine = { ...machineFor(slowGuest, account, { machineId: 'vm-slow' }), address: proxy.host, port: proxy.port };
    const [sub] = await enable(lab.daemon, [machine]);
    const id = (sub as { id: string }).id;
    await until('the copy to be under way', async () => proxy.bytesUp() > 2 * 1024 * 1024 && readdirSync(slowGuest.hostPath('/tmp')).length > 0);
    const cancel = await lab.daemon.api<JobBody>('POST', `/api/v1/jobs/${id}/cancel`, undefined, lab.daemon.tokens.operator);
    assert.equal(cancel.status, 202);
    proxy.setRate(0); // the clean-up connection need not crawl
    const done = await waitForJob<JobBody>(lab.daemon, id, 20_000);
    assert.equal(done.state, 'Cancelled', JSON.stringify(done, null, 2));
    assert.equal(task(done, 'CopyInstaller').state, 'Cancelled');
    assert.equal(task(done, 'InstallMobilityService').state, 'Cancelled');
    assert.equal(done.errors[0]?.code, 99008);
    assert.ok(proxy.bytesUp() < 20 * 1024 * 1024, 'the copy did not run to its end');
    await until('the staging folder to be removed', async () => readdirSync(slowGuest.hostPath('/tmp')).length === 0, 10_000);
    assert.ok(!slowGuest.exists('/usr/local/.vx_version'), 'nothing was installed');
    assert.deepEqual(done.allowedActions, ['Restart']);
    assert.equal((await lab.daemon.api('POST', `/api/v1/jobs/${id}/cancel`)).status, 409, 'an ended job cannot be cancelled');

    const restarted = await lab.daemon.api<{ jobs: Array<{ id: string; created: boolean }> }>('POST', `/api/v1/jobs/${id}/restart`, undefined, lab.daemon.tokens.portal);
    assert.equal(restarted.status, 202);
    const newId = restarted.body.jobs[0]?.id as string;
    assert.notEqual(newId, id);
    const again = await waitForJob<JobBody & { restartOf?: string }>(lab.daemon, newId);
    assert.equal(again.state, 'Succeeded');
    assert.equal(again.restartOf, id);
  });

  it('cancels a queued job at once; the global cap keeps at most 2 pushes running', async () => {
    // Four guests whose installer takes 2 s each, so every job really installs and the runs overlap.
    const capGuests = await Promise.all([0, 1, 2, 3].map((i) => createLinuxGuest({ name: `cap${i}`, behaviour: { passphrase: lab.daemon.passphrase, installSleep: 2 } })));
    try {
      const subs = await enable(lab.daemon, capGuests.map((g) => machineFor(g, account)));
      const ids = subs.map((s) => s.id);
      // With GLOBAL_CONCURRENCY=2, once two run the others are still queued: cancel one of those (right
      // after the submit every job is NotStarted, and the first ones are about to start). The last one
      // queued is taken: it waits for two installs to end, so a worker cannot take it between read and cancel.
      const queued = await until('two jobs running and one queued', async () => {
        const jobs = await Promise.all(ids.map(async (id) => lab.daemon.client.getJob(id)));
        return jobs.filter((j) => j.state === 'InProgress').length === 2 && [...jobs].reverse().find((j) => j.state === 'NotStarted');
      });
      const cancelled = await lab.daemon.api<JobBody>('POST', `/api/v1/jobs/${queued.id}/cancel`);
      assert.equal(cancelled.status, 202);
      assert.equal(cancelled.body.state, 'Cancelled');
      assert.ok(cancelled.body.tasks.every((t) => t.state === 'Cancelled'));
      const results = await Promise.all(ids.map((id) => waitForJob<JobBody & { attemptLog?: Array<{ startedAt: string; endedAt?: string }> }>(lab.daemon, id)));
      assert.equal(results.filter((j) => j.state === 'Cancelled').length, 1);
      assert.equal(results.filter((j) => j.state === 'Succeeded').length, 3);
      for (const [i, j] of results.entries()) {
        if (j.state === 'Succeeded') assert.equal(task(j, 'InstallMobilityService').state, 'Succeeded', `guest ${i} really installed`);
        else assert.ok(!capGuests[i]?.exists('/usr/local/.vx_version'), 'the cancelled job never touched its guest');
      }
      // From the attempts' start/end times: never more than 2 running at once.
      const spans = results.flatMap((j) => (j.attemptLog ?? []).map((a) => [Date.parse(a.startedAt), Date.parse(a.endedAt ?? a.startedAt)] as const));
      const maxOverlap = Math.max(...spans.map(([s]) => spans.filter(([s2, e2]) => s2 <= s && s < e2).length));
      assert.ok(maxOverlap <= 2, `at most 2 concurrent pushes, saw ${maxOverlap}`);
      assert.equal(maxOverlap, 2, 'two did run side by side');
    } finally {
      await Promise.all(capGuests.map((g) => g.destroy()));
    }
  });

  it('SSE change log: a client that disconnects and reconnects with its cursor misses nothing', async () => {
    const client = lab.daemon.client.withToken(lab.daemon.tokens.operator);
    const machines = [0, 1, 2].map((i) => machineFor(guest, account, { machineId: `vm-sse-${i}` }));
    const firstPart = readEvents(client.events(), (evs) => evs.length >= 5);
    await new Promise((r) => setTimeout(r, 200)); // the stream is open before the jobs start
    const subs = await enable(lab.daemon, machines);
    const ids = new Set(subs.map((s) => s.id));
    const part1 = await firstPart;
    const lastSeen = part1[part1.length - 1]?.id as string;
    const jobsDone = Promise.all([...ids].map((id) => waitForJob<JobBody>(lab.daemon, id)));
    await jobsDone;
    // Reconnect with the cursor (sent as Last-Event-ID).
    const part2 = await readEvents(client.events({ after: lastSeen }),
      (evs) => [...ids].every((id) => evs.some((e) => e.jobId === id && e.kind === 'job' && ['Succeeded', 'Failed'].includes(e.state))));
    const seen = [...part1, ...part2].filter((e) => ids.has(e.jobId));
    // The authoritative log: each job's own event stream.
    for (const id of ids) {
      const full = await readEvents(client.watchJob(id), () => false);
      assert.deepEqual(seen.filter((e) => e.jobId === id).map((e) => e.id), full.map((e) => e.id), `job ${id}: events match its own log exactly`);
      assert.equal(full[full.length - 1]?.state, 'Succeeded');
    }
    const cursors = seen.map((e) => e.id);
    assert.equal(new Set(cursors).size, cursors.length, 'no event delivered twice');
  });
});
