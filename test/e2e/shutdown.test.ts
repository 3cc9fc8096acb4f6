// Graceful shutdown with real processes: a rolling restart of a process server's two workers while
// installs of ~20 s run (each guest's installer runs exactly once, never two at once: a handed-back
// attempt keeps the guest lease and its staging folder, and the next one waits for the installer still
// running on the guest), and SIGTERM while Redis is unreachable (the process exits within the grace,
// having written one structured warning, no raw error dumps).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../lab/cluster.ts';
import type { DaemonProcess } from '../lab/daemon-process.ts';
import type { LinuxGuest } from '../lab/linux-guest.ts';
import type { LabRedis } from '../lab/redis.ts';
import { startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { clusterJobsEnded, machineFor, type JobBody, until } from './fixtures.ts';

interface Job extends JobBody { attemptLog?: Array<{ attempt: number; endedAt?: string; handedBack?: string }> }

const GRACE_SEC = 5;
const INSTALL_SEC = 20;

describe('rolling restart and shutdown', () => {
  let lab: ClusterLab;
  let redis: LabRedis;
  let cluster: Cluster;
  let repo: string;
  let account: string;
  let guests: LinuxGuest[];

  before(async () => {
    lab = await startClusterLab({ name: 'roll', guests: 4, installSleep: INSTALL_SEC, env: { JOB_LOCK_MS: '3000', SHUTDOWN_GRACE_SEC: String(GRACE_SEC), WORKER_CONCURRENCY: '8' } });
    ({ redis, cluster, repo, account, guests } = lab);
  });

  after(async () => { await lab?.stop(); });

  const get = async (id: string) => (await cluster.client.raw<Job>('GET', `/api/v1/jobs/${id}`)).body;
  const installing = async (ids: string[]) => (await Promise.all(ids.map(get))).filter((j) => j.tasks.find((t) => t.name === 'InstallMobilityService')?.state === 'InProgress').length;

  async function sigterm(w: DaemonProcess): Promise<number> {
    const t = Date.now();
    w.kill('SIGTERM');
    const exit = await w.exited();
    assert.equal(exit.code, 0, w.output().slice(-2000));
    return Date.now() - t;
  }

  it('a rolling restart during ~20 s installs: every job succeeds and each guest ran its installer exactly once', async () => {
    const w1 = await cluster.startWorker('cs', repo);
    const w2 = await cluster.startWorker('cs', repo);
    const sub = await cluster.client.raw<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', {
      machines: guests.map((g, i) => machineFor(g, account, { machineId: `vm-roll-${i}` })),
    });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const ids = sub.body.jobs.map((j) => j.id);
    await until('the installers to be running', async () => (await installing(ids)) === ids.length, 60_000);

    // Restart one worker, then the other, while the installers run.
    const firstStop = await sigterm(w1);
    const w3 = await cluster.startWorker('cs', repo);
    await new Promise((r) => setTimeout(r, 2000));
    const secondStop = await sigterm(w2);
    await cluster.startWorker('cs', repo);
    void w3;
    assert.ok(firstStop < GRACE_SEC * 1000 + 1500 && secondStop < GRACE_SEC * 1000 + 1500, `stops took ${firstStop} and ${secondStop} ms`);

    const jobs = await clusterJobsEnded<Job>(cluster, ids, 120_000);
    let handedBack = 0;
    let waited = 0;
    for (const job of jobs) {
      assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
      handedBack += (job.attemptLog ?? []).filter((a) => a.handedBack).length;
      // Hand-backs are logged with their reason and not counted: "attempt N of M" agrees with the record.
      const log = (await cluster.client.raw<string>('GET', `/api/v1/jobs/${job.id}/log`)).body;
      const numbers = [...log.matchAll(/attempt (\d+) of (\d+) on process server/g)].map((m) => Number(m[1]));
      assert.equal(Math.max(...numbers), job.attempts, log);
      if (/an earlier attempt started \(pid \d+\) (still runs|has ended)/.test(log)) waited += 1;
      for (const entry of job.attemptLog ?? []) if (entry.handedBack) assert.match(entry.handedBack, /shutting down/);
    }
    assert.ok(handedBack > 0, 'the restarts handed jobs back');
    assert.ok(waited > 0, 'a next attempt waited for the installer a handed-back one had started');
    let twice = 0;
    for (const g of guests) {
      const runs = g.read('/var/log/ua_install.log').split('\n').filter((l) => l.includes('Mobility Service installer')).length;
      if (runs !== 1) twice += 1;
      assert.equal(runs, 1, `${g.name}: the installer ran ${runs} times\n${g.read('/var/log/ua_install.log')}`);
      assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=Succeeded/);
    }
    process.stdout.write(`# rolling restart: ${ids.length} jobs, ${handedBack} hand-backs, guests whose installer ran twice: ${twice}; stops took ${firstStop} and ${secondStop} ms\n`);
  });

  it('SIGTERM while Redis is unreachable: the process exits within SHUTDOWN_GRACE_SEC, with one structured warning', async () => {
    const w = await cluster.startWorker('cs', repo);
    const mark = w.output().length;
    await redis.stopOnly();
    try {
      await new Promise((r) => setTimeout(r, 6000));
      const t = Date.now();
      w.kill('SIGTERM');
      await w.exited();
      const took = Date.now() - t;
      process.stdout.write(`# SIGTERM with Redis stopped: exited after ${took} ms (grace ${GRACE_SEC} s)\n`);
      assert.ok(took <= GRACE_SEC * 1000, `exited after ${took} ms`);
      const lines = w.output().slice(mark).split('\n').filter((l) => l.trim() !== '');
      for (const l of lines) assert.ok(l.startsWith('{'), `not a structured log line: ${l}`);
      assert.equal(lines.filter((l) => l.includes('"redis-unreachable"')).length, 1, lines.join('\n'));
      assert.ok(!lines.some((l) => l.includes('"worker error"')), lines.join('\n'));
    } finally {
      await redis.startAgain();
    }
  });
});
