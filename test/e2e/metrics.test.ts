// GET /metrics with prom-client: scraped before and after real pushes (one Succeeded, one Failed) on lab
// guests, the job, task, outcome, error-code, copy, queue-wait and auth-failure metrics move, and every
// metric has HELP and TYPE and a Prometheus-style name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { duplicateKeys } from '../lab/json-keys.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, enable, machineFor, startLab, waitForJob, type JobBody, type Lab } from './fixtures.ts';

/** `name{labels} value` lines into a map keyed by `name{labels}` exactly as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('Prometheus metrics', () => {
  let lab: Lab;
  let ok: LinuxGuest;
  let failing: LinuxGuest;
  let accountId: string;

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0', padMiB: 1 }] });
    const passphrase = lab.daemon.passphrase;
    [ok, failing] = await Promise.all([
      createLinuxGuest({ name: 'metrics-ok', os: 'ubuntu-20.04', behaviour: { passphrase } }),
      createLinuxGuest({ name: 'metrics-fail', os: 'ubuntu-20.04', behaviour: { passphrase, installExit: 17 } }),
    ]);
    accountId = await createLinuxAccount(lab.daemon, ok.users.root);
  });

  after(async () => {
    await Promise.all([ok, failing].map((g) => g?.destroy()));
    await lab?.stop();
  });

  const scrape = async () => {
    const res = await lab.daemon.api<string>('GET', '/metrics', undefined, lab.daemon.tokens.operator);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('job, task, outcome, error-code, copy, queue-wait and auth-failure metrics move after pushes', async () => {
    const before = samples(await scrape());
    const jobs = await enable(lab.daemon, [machineFor(ok, accountId), machineFor(failing, accountId)]);
    const [done, failed] = await Promise.all(jobs.map((j) => waitForJob<JobBody>(lab.daemon, j.id)));
    assert.equal(done?.state, 'Succeeded');
    assert.equal(failed?.state, 'Failed');
    assert.equal((await lab.daemon.api('GET', '/api/v1/jobs', undefined, 'pit_wrong')).status, 401);
    assert.equal((await lab.daemon.api('GET', '/api/v1/run-as-accounts', undefined, lab.daemon.tokens.portal)).status, 403);
    const text = await scrape();
    const now = samples(text);
    const moved = (key: string) => (now.get(key) ?? 0) - (before.get(key) ?? 0);
    const linux = 'type="enable-replication",os_family="linux"';

    assert.equal(moved(`pushinstalld_jobs_finished_total{${linux},state="Succeeded"}`), 1);
    assert.equal(moved(`pushinstalld_jobs_finished_total{${linux},state="Failed"}`), 1);
    assert.equal(moved(`pushinstalld_job_errors_total{code="99003",${linux}}`), 1);
    assert.equal(moved(`pushinstalld_job_duration_seconds_count{${linux},outcome="Succeeded"}`), 1);
    assert.ok(moved(`pushinstalld_job_duration_seconds_sum{${linux},outcome="Succeeded"}`) > 0);
    assert.equal(moved(`pushinstalld_job_duration_seconds_bucket{le="+Inf",${linux},outcome="Failed"}`), 1);
    assert.equal(moved(`pushinstalld_task_duration_seconds_count{task="CopyInstaller",${linux},outcome="Succeeded"}`), 2);
    assert.equal(moved(`pushinstalld_task_duration_seconds_count{task="InstallMobilityService",${linux},outcome="Failed"}`), 1);
    assert.equal(moved(`pushinstalld_task_duration_seconds_count{task="InstallVssProvider",${linux},outcome="Skipped"}`), 1);
    assert.equal(moved('pushinstalld_job_queue_wait_seconds_count{type="enable-replication",process_server="cs"}'), 2);
    assert.ok(moved('pushinstalld_copy_bytes_total{os_family="linux"}') > 2 * 1024 * 1024, 'two copies of a 1 MiB-padded installer');
    assert.ok(moved('pushinstalld_copy_seconds_total{os_family="linux"}') > 0);
    assert.ok(moved('pushinstalld_api_auth_failures_total{status="401"}') >= 1);
    assert.equal(moved('pushinstalld_api_auth_failures_total{status="403"}'), 1);
    // The gauges kept from before, and the default process metrics.
    assert.equal(now.get('pushinstalld_jobs{state="Succeeded"}'), 1);
    assert.equal(now.get('pushinstalld_queue_jobs{process_server="cs",state="waiting"}'), 0);
    assert.equal(now.get('pushinstalld_repository_installers'), 1);
    assert.ok((now.get('process_cpu_user_seconds_total') ?? 0) > 0);
    assert.ok(now.has('nodejs_heap_size_used_bytes'));

    // Every metric family has HELP and TYPE; names are snake_case, counters end in _total.
    const families = new Map<string, string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1] as string, m[2] as string);
    const helped = new Set([...text.matchAll(/^# HELP (\S+) \S/gm)].map((m) => m[1]));
    for (const [name, type] of families) {
      assert.ok(helped.has(name), `${name} has HELP`);
      assert.match(name, /^[a-z][a-z0-9_]*$/);
      if (type === 'counter') assert.match(name, /_total$/, `${name} is a counter`);
    }
    // Every line the daemon logged meanwhile (requests, job runs, failures) is JSON with no key twice.
    for (const line of lab.daemon.logs) assert.deepEqual(duplicateKeys(line), [], line);
    for (const key of now.keys()) {
      const name = key.replace(/\{.*$/, '');
      assert.ok([...families.keys()].some((f) => name === f || name.startsWith(`${f}_`)), `${name} belongs to a family with TYPE`);
    }
  });
});
