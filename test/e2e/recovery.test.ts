// Jobs survive what happens to process servers and Redis: a worker killed with SIGKILL mid-copy (the
// job is taken up again and finishes), SIGTERM (running jobs handed back, exit 0), Redis restarted with
// jobs in flight (API 503 meanwhile, nothing lost or duplicated), and a batch of 100 machines across
// two process servers, each a separate worker process.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../lab/cluster.ts';
import { startFaultProxy } from '../lab/fault-proxy.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { clusterJobsEnded, createLinuxAccount, enable, FINAL, newRepository, machineFor, startLab, type JobBody, until, waitForJob } from './fixtures.ts';

interface Job extends JobBody { attemptLog?: Array<{ attempt: number; endedAt?: string; error?: { code: number; message: string } }> }


describe('recovery across worker processes', () => {
  let lab: ClusterLab;
  let cluster: Cluster;
  let repo: string;
  let account: string;
  let guests: LinuxGuest[];

  before(async () => {
    lab = await startClusterLab({ name: 'rec', guests: 1, installSleep: 0, padMiB: 16, env: { JOB_LOCK_MS: '3000', SHUTDOWN_GRACE_SEC: '2', WORKER_CONCURRENCY: '16' } });
    ({ cluster, repo, account, guests } = lab);
  });

  // Guests a test adds to `guests` go with the lab too.
  after(async () => { await lab?.stop(); });

  const get = async (id: string): Promise<Job> => cluster.client.getJob(id);
  const waitFinal = (id: string, timeoutMs = 90_000) => until(`job ${id} to end`, async () => { const j = await get(id); return FINAL.includes(j.state) ? j : undefined; }, timeoutMs);

  it('a worker killed with SIGKILL mid-copy: the job is taken up by another worker and finishes', async () => {
    const g = guests[0] as LinuxGuest;
    const proxy = await startFaultProxy({ host: '127.0.0.1', target: { host: g.address, port: g.port }, rate: 1024 * 1024 });
    try {
      const w1 = await cluster.startWorker('cs', repo);
      await until('the installer to be offered', async () => w1.output().includes('Microsoft-ASR_UA_9.30.0.0') || readdirSync(repo).length > 0);
      const sub = await cluster.client.enableReplication([{ ...machineFor(g, account, { machineId: 'vm-kill' }), address: proxy.host, port: proxy.port }]);
      assert.equal(sub[0]?.statusCode, 202, JSON.stringify(sub));
      const id = sub[0]?.id as string;
      await until('the copy to be under way', async () => proxy.bytesUp() > 2 * 1024 * 1024);
      w1.kill('SIGKILL');
      await w1.exited();
      assert.equal((await get(id)).state, 'InProgress', 'the record still says in progress');
      proxy.setRate(0);
      await cluster.startWorker('cs', repo);
      const done = await waitFinal(id);
      assert.equal(done.state, 'Succeeded', JSON.stringify(done, null, 2));
      assert.equal(done.attempts, 2);
      assert.match(done.attemptLog?.[0]?.error?.message ?? '', /process server running this attempt stopped/);
      assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=Succeeded/);
      assert.deepEqual(readdirSync(g.hostPath('/tmp')), [], 'staging folder removed');
    } finally {
      await proxy.close();
    }
  });

  it('SIGTERM: the worker stops taking jobs, hands the running one back within its grace time and exits 0', async () => {
    for (const w of cluster.workers.splice(0)) { if (w.child.exitCode === null) { w.kill('SIGTERM'); await w.exited(); } }
    const g = await createLinuxGuest({ name: 'drain', behaviour: { passphrase: cluster.passphrase, installSleep: 60 } });
    guests.push(g);
    const w = await cluster.startWorker('cs', repo);
    const sub = await cluster.client.enableReplication([machineFor(g, account, { machineId: 'vm-drain' })]);
    const id = sub[0]?.id as string;
    await until('the install to be running', async () => (await get(id)).tasks.find((t) => t.name === 'InstallMobilityService')?.state === 'InProgress');
    w.kill('SIGTERM');
    const exit = await w.exited();
    assert.equal(exit.code, 0, w.output().slice(-2000));
    const handedBack = await get(id);
    assert.equal(handedBack.state, 'NotStarted', JSON.stringify(handedBack));
    assert.ok(handedBack.allowedActions.includes('Cancel'));
    g.setBehaviour({ passphrase: cluster.passphrase });
    await cluster.startWorker('cs', repo);
    const done = await waitFinal(id);
    assert.equal(done.state, 'Succeeded', JSON.stringify(done, null, 2));
  });

  it('a batch of 100 machines across two process servers (two worker processes) all reach a final state', async () => {
    const repo2 = await newRepository('rec-ps2', [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }]);
    await cluster.startWorker('ps2', repo2);
    const batchGuests = await Promise.all(Array.from({ length: 10 }, (_, i) => createLinuxGuest({ name: `b${i}`, behaviour: { passphrase: cluster.passphrase } })));
    guests.push(...batchGuests);
    const machines = Array.from({ length: 100 }, (_, i) => ({
      ...machineFor(batchGuests[i % 10] as LinuxGuest, account, { machineId: `vm-batch-${i}` }),
      processServerId: i % 2 === 0 ? 'cs' : 'ps2',
    }));
    const sub = await cluster.client.enableReplication(machines);
    assert.ok(sub.every((j) => j.statusCode === 202));
    assert.equal(sub.length, 100);
    const ids = sub.map((j) => j.id);
    assert.equal(new Set(ids).size, 100);
    const jobs = await clusterJobsEnded<Job>(cluster, ids, 180_000);
    const byState = jobs.reduce<Record<string, number>>((acc, j) => { acc[j.state] = (acc[j.state] ?? 0) + 1; return acc; }, {});
    assert.deepEqual(byState, { Succeeded: 100 }, JSON.stringify(jobs.filter((j) => j.state !== 'Succeeded').slice(0, 3), null, 2));
    const ps = jobs.reduce<Record<string, number>>((acc, j) => { const p = (j as unknown as { processServerId: string }).processServerId; acc[p] = (acc[p] ?? 0) + 1; return acc; }, {});
    assert.deepEqual(ps, { cs: 50, ps2: 50 });
    for (const g of batchGuests) assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=Succeeded/);
  });
});

describe('Redis restarted with jobs in flight', () => {
  it('the API answers 503 while Redis is down; workers reconnect; every job ends once, none is lost or duplicated', async () => {
    const lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    const gs = await Promise.all([0, 1, 2].map((i) => createLinuxGuest({ name: `redis${i}`, behaviour: { passphrase: lab.daemon.passphrase, installSleep: 3 } })));
    try {
      const acct = await createLinuxAccount(lab.daemon, (gs[0] as LinuxGuest).users.root);
      const subs = await enable(lab.daemon, gs.map((g) => machineFor(g, acct)));
      await until('the installs to be running', async () => {
        const all = await Promise.all(subs.map((s) => lab.daemon.client.getJob(s.id)));
        return all.every((j) => j.tasks.find((t) => t.name === 'InstallMobilityService')?.state === 'InProgress');
      });
      await lab.redis.stopOnly();
      const during = await lab.daemon.api<{ message: string }>('GET', '/api/v1/jobs');
      assert.equal(during.status, 503, during.text);
      const ready = await lab.daemon.api('GET', '/readyz', undefined, null);
      assert.equal(ready.status, 503);
      await lab.redis.startAgain();
      const done = await Promise.all(subs.map((s) => waitForJob<JobBody>(lab.daemon, s.id, 90_000)));
      assert.deepEqual(done.map((j) => j.state), ['Succeeded', 'Succeeded', 'Succeeded'], JSON.stringify(done, null, 2));
      const list = await lab.daemon.api<{ jobs: JobBody[] }>('GET', '/api/v1/jobs?limit=1000');
      assert.equal(list.body.jobs.length, 3, 'no job lost or duplicated');
    } finally {
      await Promise.all(gs.map((g) => g.destroy()));
      await lab.stop();
    }
  });
});
