// A scale-out process server (ROLES=worker) counts the job and task metrics of the jobs it runs, so it
// is scraped itself: METRICS_PORT serves /metrics, /healthz and /readyz there, no token needed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DaemonProcess } from '../lab/daemon-process.ts';
import { startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { machineFor } from './fixtures.ts';

describe('metrics of a worker-only process', () => {
  let lab: ClusterLab;
  let worker: DaemonProcess;
  let url: string;

  before(async () => {
    lab = await startClusterLab({ name: 'wm', guests: 1, installSleep: 0, env: {} });
    worker = await lab.cluster.startWorker('cs', lab.repo, { METRICS_PORT: '0' });
    url = /"url":"(http[^"]+)"/.exec(await worker.waitFor(/"url":"http[^"]+","msg":"metrics listening"/))?.[1] as string;
  });

  after(async () => { await lab?.stop(); });

  it('serves the jobs it ran, its process metrics and its readiness on METRICS_PORT', async () => {
    const scrape = async () => {
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const finished = /^pushinstalld_jobs_finished_total\{type="enable-replication",os_family="linux",state="Succeeded"\} (\d+)$/m;
    assert.doesNotMatch(await scrape(), finished, 'no job yet');
    const sub = await lab.cluster.client.raw<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', { machines: lab.guests.map((g) => machineFor(g, lab.account)) });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const [job] = await lab.allFinal(sub.body.jobs.map((j) => j.id));
    assert.equal(job?.state, 'Succeeded');
    const text = await scrape();
    assert.equal(finished.exec(text)?.[1], '1', 'the job this worker ran is counted here');
    assert.match(text, /^pushinstalld_copy_bytes_total\{os_family="linux"\} [1-9]\d*$/m);
    assert.match(text, /^pushinstalld_vault_key_agreement 1$/m);
    assert.match(text, /^pushinstalld_redis_up 1$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.doesNotMatch(text, new RegExp(lab.guests[0]?.users.root.password as string), 'no secret');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: Record<string, string> }).checks, { redis: 'ok', repository: 'ok', vaultKey: 'ok' });
    assert.equal((await fetch(`${url}/api/v1/jobs`)).status, 404, 'no API here');
  });
});
