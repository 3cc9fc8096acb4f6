// Enable replication on Linux guests end to end, through the HTTP API, against real sshd guests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, dumpRedis, enable, machineFor, startLab, task, waitForJob, type JobBody, type Lab } from './fixtures.ts';
import type { MachineRequest } from '../../src/domain/job.ts';

describe('enable replication on Linux', () => {
  let lab: Lab;
  let ubuntu: LinuxGuest;
  let centos: LinuxGuest;
  let rhel: LinuxGuest;
  let accountId: string;
  const apiBodies: string[] = [];

  before(async () => {
    lab = await startLab({
      installers: [
        { tag: 'UBUNTU-20.04-64', version: '9.30.0.0' },
        { tag: 'UBUNTU-20.04-64', version: '9.29.0.0' },
        { tag: 'RHEL7-64', version: '9.30.0.0' },
        { tag: 'RHEL8-64', version: '9.30.0.0' },
      ],
    });
    const passphrase = lab.daemon.passphrase;
    [ubuntu, centos, rhel] = await Promise.all([
      createLinuxGuest({ name: 'ubuntu', os: 'ubuntu-20.04', behaviour: { passphrase } }),
      createLinuxGuest({ name: 'centos', os: 'centos-7', behaviour: { passphrase, installSleep: 2 } }),
      createLinuxGuest({ name: 'rhel', os: 'rhel-8', behaviour: { passphrase, agentBuild: '5407.1' } }),
    ]);
    accountId = await createLinuxAccount(lab.daemon, ubuntu.users.root);
  });

  after(async () => {
    await Promise.all([ubuntu, centos, rhel].map((g) => g?.destroy()));
    await lab?.stop();
  });

  it('pushes to three guests of different OS in one request; each ends Succeeded and is registered', async () => {
    const machines = [
      machineFor(ubuntu, accountId, { displayName: 'web-01' }),
      machineFor(centos, accountId, { os: { family: 'linux', name: 'CentOS Linux release 7.9.2009 (Core)' } }),
      machineFor(rhel, accountId, { os: { family: 'linux', tag: 'RHEL8-64' } }),
    ];
    const submitted = await enable(lab.daemon, machines, lab.daemon.tokens.portal);
    assert.equal(submitted.length, 3);
    assert.ok(submitted.every((j) => j.created && j.statusCode === 202 && j.state === 'NotStarted'));

    // A second submit while the CentOS job is still running returns that job, not a new one.
    const again = await enable(lab.daemon, [machines[1] as MachineRequest], lab.daemon.tokens.portal);
    assert.equal(again[0]?.id, submitted[1]?.id);
    assert.equal(again[0]?.created, false);
    assert.equal(again[0]?.statusCode, 200);

    const jobs = await Promise.all(submitted.map((j) => waitForJob<JobBody>(lab.daemon, j.id)));
    for (const [i, job] of jobs.entries()) {
      assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
      assert.equal(job.agentVersion, '9.30.0.0', 'highest version for the tag is chosen');
      assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
        ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Succeeded'],
        ['InstallVssProvider', 'Skipped'], ['RegisterWithConfigurationServer', 'Succeeded'],
      ]);
      assert.match(task(job, 'InstallVssProvider').message ?? '', /Windows only/);
      assert.deepEqual(job.allowedActions, ['Restart']);
      const guest = [ubuntu, centos, rhel][i] as LinuxGuest;
      const vx = guest.read('/usr/local/.vx_version');
      // The RHEL guest's agent reports its build: the release (9.30) matches, the build is kept on the job.
      assert.match(vx, i === 2 ? /^VERSION=9\.30\.5407\.1$/m : /^VERSION=9\.30\.0\.0$/m);
      assert.equal((job as JobBody & { installedBuild?: string }).installedBuild, i === 2 ? '9.30.5407.1' : '9.30.0.0');
      assert.match(vx, /^AGENT_CONFIGURATION_STATUS=Succeeded$/m);
      assert.match(vx, /^CS_IP=10\.0\.0\.4$/m);
      assert.match(vx, /^INSTALLATION_DIR=\/usr\/local\/ASR$/m);
      assert.ok(guest.exists('/usr/local/ASR/Vx/bin/UnifiedAgentConfigurator.sh'));
      // The staging folder (and the passphrase file in it) is gone.
      assert.deepEqual(guest.read('/tmp/../etc/hostname').trim(), 'guest');
      const { readdirSync } = await import('node:fs');
      assert.deepEqual(readdirSync(guest.hostPath('/tmp')), [], 'staging folder removed');
    }
    const ubuntuJob = jobs[0] as JobBody;
    assert.match(ubuntuJob.installer?.file ?? '', /^Microsoft-ASR_UA_9\.30\.0\.0_UBUNTU-20\.04-64_GA_22Oct2019_release\.tar\.gz$/);
    assert.match(ubuntuJob.installer?.sha256 ?? '', /^[0-9a-f]{64}$/);

    const log = await lab.daemon.api('GET', `/api/v1/jobs/${ubuntuJob.id}/log`, undefined, lab.daemon.tokens.operator);
    assert.equal(log.status, 200);
    assert.match(log.text, /detected Ubuntu 20\.04.* OS tag UBUNTU-20\.04-64/);
    assert.match(log.text, /verified SHA-256/);
    apiBodies.push(log.text);
  });

  it('an operator reads the job list with filters and pagination', async () => {
    const all = await lab.daemon.api<{ jobs: JobBody[]; nextCursor: string | null }>('GET', '/api/v1/jobs?limit=2', undefined, lab.daemon.tokens.operator);
    assert.equal(all.status, 200);
    assert.equal(all.body.jobs.length, 2);
    assert.ok(all.body.nextCursor);
    const rest = await lab.daemon.api<{ jobs: JobBody[]; nextCursor: string | null }>('GET', `/api/v1/jobs?limit=2&cursor=${all.body.nextCursor}`, undefined, lab.daemon.tokens.operator);
    assert.equal(rest.body.jobs.length, 1);
    assert.equal(rest.body.nextCursor, null);
    const ids = new Set([...all.body.jobs, ...rest.body.jobs].map((j) => j.id));
    assert.equal(ids.size, 3);
    const byMachine = await lab.daemon.api<{ jobs: JobBody[] }>('GET', `/api/v1/jobs?machineId=vm-${centos.name}&state=Succeeded`);
    assert.equal(byMachine.body.jobs.length, 1);
    const none = await lab.daemon.api<{ jobs: JobBody[] }>('GET', '/api/v1/jobs?state=Failed');
    assert.equal(none.body.jobs.length, 0);
    apiBodies.push(all.text, rest.text);
  });

  it('a push to a machine that already has the agent checks it and succeeds without reinstalling', async () => {
    ubuntu.write('/var/log/ua_install.log', '');
    const [job] = await enable(lab.daemon, [machineFor(ubuntu, accountId)]);
    const done = await waitForJob<JobBody>(lab.daemon, (job as { id: string }).id);
    assert.equal(done.state, 'Succeeded');
    assert.match(task(done, 'CopyInstaller').message ?? '', /9\.30\.0\.0 is already installed/);
    assert.equal(task(done, 'InstallMobilityService').state, 'Skipped');
    assert.equal(task(done, 'RegisterWithConfigurationServer').state, 'Skipped');
    assert.equal(ubuntu.read('/var/log/ua_install.log'), '', 'the installer did not run');
  });

  it('streams the job as Server-Sent Events ending with the final state', async () => {
    const [job] = await enable(lab.daemon, [machineFor(rhel, accountId, { machineId: 'vm-sse' })]);
    const res = await fetch(`${lab.daemon.url}/api/v1/jobs/${(job as { id: string }).id}/events`, { headers: { authorization: `Bearer ${lab.daemon.tokens.operator}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await res.text(); // the server ends the stream after the final state
    const events = text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => JSON.parse(b.split('\n').find((l) => l.startsWith('data: '))?.slice(6) ?? '{}') as { kind: string; state: string; task?: string; job?: JobBody });
    assert.equal(events[0]?.kind, 'task');
    assert.equal(events[0]?.state, 'NotStarted');
    const last = events[events.length - 1];
    assert.equal(last?.kind, 'job');
    assert.equal(last?.state, 'Succeeded');
    assert.equal(last?.job?.state, 'Succeeded');
    assert.ok(events.some((e) => e.kind === 'job' && e.state === 'InProgress'));
    assert.ok(events.some((e) => e.kind === 'task' && e.task === 'CopyInstaller' && e.state === 'InProgress'));
    apiBodies.push(text);
  });

  it('no run-as password or CS passphrase in logs, Redis or API responses', async () => {
    const secrets = [ubuntu.users.root.password, lab.daemon.passphrase];
    const redis = new Redis(lab.redis.url);
    try {
      const dump = await dumpRedis(redis);
      const accounts = await lab.daemon.api('GET', '/api/v1/run-as-accounts');
      const account = await lab.daemon.api('GET', `/api/v1/run-as-accounts/${accountId}`);
      const jobs = await lab.daemon.api('GET', '/api/v1/jobs?limit=1000');
      const haystacks: Record<string, string> = {
        logs: lab.daemon.logs.join(''),
        redis: dump,
        api: [...apiBodies, accounts.text, account.text, jobs.text].join('\n'),
      };
      assert.ok((haystacks.logs ?? '').length > 1000 && dump.length > 1000, 'there is something to scan');
      for (const secret of secrets) {
        const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
        for (const [where, text] of Object.entries(haystacks)) {
          for (const f of forms) assert.ok(!text.includes(f), `a secret (form ${forms.indexOf(f)}) appears in ${where}`);
        }
      }
      // The passphrase was on the guest only for the registration command.
      assert.ok(!ubuntu.exists('/tmp/passphrase.txt'));
    } finally {
      redis.disconnect();
    }
  });
});
