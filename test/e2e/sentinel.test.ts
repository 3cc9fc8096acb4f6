// Redis Sentinel with real processes (Debian's redis-server and redis-sentinel on loopback): one primary,
// one replica, three sentinels; 20 pushes in flight on lab guests when the primary is killed with
// SIGKILL. The sentinels promote the replica; every job ends Succeeded, each guest is installed exactly
// once, no job is duplicated, and the API answers again within 30 s. A sentinel address that does not
// answer at start is a configuration error (exit 2 naming REDIS_SENTINELS).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from '../lab/cluster.ts';
import { spawnDaemon } from '../lab/daemon-process.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { SENTINEL_NAME, startSentinelLab, type SentinelLab } from '../lab/sentinel.ts';
import { clusterJobsEnded, createClusterAccount, newRepository, machineFor, type JobBody, until } from './fixtures.ts';


describe('Redis Sentinel failover', () => {
  let lab: SentinelLab;
  let cluster: Cluster;
  let repo: string;
  let account: string;
  const guests: LinuxGuest[] = [];

  before(async () => {
    lab = await startSentinelLab();
    repo = await newRepository('sent', [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }]);
    cluster = await startCluster({ redisUrl: '', env: { REDIS_SENTINELS: lab.sentinels, REDIS_SENTINEL_NAME: SENTINEL_NAME, JOB_LOCK_MS: '5000', WORKER_CONCURRENCY: '16' } });
    guests.push(...await Promise.all(Array.from({ length: 10 }, (_, i) => createLinuxGuest({ name: `sent${i}`, behaviour: { passphrase: cluster.passphrase, installSleep: 4 } }))));
    const g = guests[0] as LinuxGuest;
    account = await createClusterAccount(cluster, g);
  });

  after(async () => {
    await cluster?.stop();
    await Promise.all(guests.map((g) => g.destroy()));
    await lab?.stop();
  });

  const get = async (id: string) => (await cluster.client.raw<JobBody>('GET', `/api/v1/jobs/${id}`)).body;

  it('kill -9 of the primary with 20 pushes in flight: all succeed once, the API answers again after the failover', async () => {
    await cluster.startWorker('cs', repo);
    await cluster.startWorker('cs', repo);
    // Two machines per guest: the second finds the agent installed (one push at a time per guest).
    const machines = Array.from({ length: 20 }, (_, i) => machineFor(guests[i % 10] as LinuxGuest, account, { machineId: `vm-sent-${i}` }));
    const sub = await cluster.client.raw<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', { machines });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const ids = sub.body.jobs.map((j) => j.id);
    assert.equal(new Set(ids).size, 20);
    await until('installs to be running', async () => (await Promise.all(ids.map(get))).some((j) => j.tasks.some((t) => t.name === 'InstallMobilityService' && t.state === 'InProgress')), 60_000);

    const before = await lab.primary();
    const killedAt = Date.now();
    lab.killPrimary();
    let sawOutage = false;
    let last = 'nothing yet';
    await until('the API to answer again after the failover', async () => {
      const res = await cluster.client.raw('GET', '/api/v1/jobs?limit=1').catch((e: Error) => ({ status: 0, body: e.message }));
      if (res.status !== 200) sawOutage = true;
      const primary = await lab.primary().catch((e: Error) => `sentinel: ${e.message}`);
      last = `API ${res.status} ${res.status === 200 ? '' : JSON.stringify(res.body)}; primary ${primary} (was ${before})`;
      return res.status === 200 && primary !== before;
    }, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${last}\nAPI output:\n${cluster.api.output().slice(-3000)}`);
    });
    const recoveredMs = Date.now() - killedAt;
    assert.notEqual(await lab.primary(), before, 'the sentinels promoted the replica');

    const jobs = await clusterJobsEnded<JobBody>(cluster, ids, 180_000);
    const byState = jobs.reduce<Record<string, number>>((acc, j) => { acc[j.state] = (acc[j.state] ?? 0) + 1; return acc; }, {});
    const list = (await cluster.client.raw<{ jobs: Array<{ id: string; machine: { machineId: string } }> }>('GET', '/api/v1/jobs?limit=1000')).body.jobs;
    const duplicates = list.length - new Set(list.map((j) => j.machine.machineId)).size;
    let twice = 0;
    for (const g of guests) {
      const runs = g.read('/var/log/ua_install.log').split('\n').filter((l) => l.includes('Mobility Service installer')).length;
      if (runs !== 1) twice += 1;
    }
    process.stdout.write(`# sentinel failover: API answered again ${recoveredMs} ms after kill -9 (outage seen: ${sawOutage}); jobs ${JSON.stringify(byState)}; records ${list.length} (duplicates ${duplicates}); guests not installed exactly once: ${twice}\n`);
    assert.deepEqual(byState, { Succeeded: 20 }, JSON.stringify(jobs.filter((j) => j.state !== 'Succeeded').slice(0, 2), null, 2));
    assert.equal(list.length, 20, 'no job lost or duplicated');
    assert.equal(duplicates, 0);
    assert.deepEqual(new Set(list.map((j) => j.id)), new Set(ids));
    assert.equal(twice, 0, 'each guest installed exactly once');
    // How long the failover took is printed above, not asserted: a time depends on the machine's load.
    for (const g of guests) assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=Succeeded/);
  });

  it('a sentinel address that does not answer at start: exit 2 naming REDIS_SENTINELS', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pi-sent-bad-'));
    const d = spawnDaemon({ REDIS_SENTINELS: `${lab.sentinels},127.0.0.1:1`, REDIS_SENTINEL_NAME: SENTINEL_NAME, DATA_DIR: dataDir, ROLES: 'worker', REPOSITORY_DIR: repo });
    const exit = await d.exited();
    assert.equal(exit.code, 2, d.output());
    assert.match(d.output(), /REDIS_SENTINELS has a sentinel that does not answer: 127\.0\.0\.1:1/);
  });
});
