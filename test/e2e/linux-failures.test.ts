// Every Linux failure the lab can produce, through the HTTP API: each ends Failed with one catalogue
// code, its cause and recommended action, on the task where it happened, and leaves the guest clean.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPENSSL_CALLS } from '../lab/guest-binaries.ts';
import { createLinuxGuest, type LinuxGuest, type LinuxGuestOptions } from '../lab/linux-guest.ts';
import { installerFileName } from '../lab/installers.ts';
import { createLinuxAccount, machineFor, push, startLab, task, waitForInstallers, type JobBody, type Lab } from './fixtures.ts';

function failedTask(job: JobBody): JobBody['tasks'][number] {
  const t = job.tasks.find((x) => x.state === 'Failed');
  assert.ok(t, `a task failed: ${JSON.stringify(job.tasks)}`);
  return t;
}

function assertFailure(job: JobBody, code: number, taskName: string): JobBody['errors'][number] {
  assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
  assert.equal(job.errors.length, 1);
  const err = job.errors[0] as JobBody['errors'][number];
  assert.equal(err.code, code, JSON.stringify(err));
  assert.ok(err.message.length > 10 && err.possibleCauses.length > 10 && err.recommendedAction.length > 10, 'error has message, causes and action');
  assert.equal(err.retryable, false, 'permanent failures are not retried');
  assert.equal(job.attempts, 1, 'no retry of a permanent failure');
  const t = failedTask(job);
  assert.equal(t.name, taskName);
  assert.deepEqual(t.errors[0], err);
  return err;
}

describe('Linux push failures', () => {
  let lab: Lab;
  const guests: LinuxGuest[] = [];
  let rootAccount: string;
  const guest = async (o: LinuxGuestOptions) => {
    const g = await createLinuxGuest({ ...o, behaviour: { passphrase: lab.daemon.passphrase, ...o.behaviour } });
    guests.push(g);
    return g;
  };
  const staged = (g: LinuxGuest) => readdirSync(g.hostPath('/tmp'));

  before(async () => {
    lab = await startLab({
      installers: [
        { tag: 'UBUNTU-20.04-64', version: '9.30.0.0' },
        { tag: 'RHEL7-64', version: '9.30.0.0' },
      ],
    });
    // A damaged package under a valid name: it copies and verifies (its SHA-256 is the repository's), then does not extract.
    writeFileSync(path.join(lab.repo, installerFileName('9.30.0.0', 'RHEL8-64')), 'this is not a gzip archive\n'.repeat(1000));
    await waitForInstallers(lab.daemon, 3);
    const g = await guest({ name: 'plain' });
    rootAccount = await createLinuxAccount(lab.daemon, g.users.root);
  });

  after(async () => {
    await Promise.all(guests.map((g) => g.destroy()));
    await lab?.stop();
  });

  it('wrong architecture: 99010 at the prerequisite check', async () => {
    const g = await guest({ name: 'i686', arch: 'i686' });
    const job = await push(lab.daemon, machineFor(g, rootAccount, { os: { family: 'linux', name: 'Ubuntu 20.04.6 LTS' } }));
    const err = assertFailure(job, 99010, 'PrerequisiteCheck');
    assert.equal(err.details?.machine, 'i686');
    assert.equal(task(job, 'CopyInstaller').state, 'Succeeded');
    assert.equal(task(job, 'InstallMobilityService').state, 'NotStarted');
    assert.deepEqual(staged(g), [], 'staging folder removed after a failure');
  });

  it('OS in the request differs from the guest: 99011', async () => {
    const g = guests[0] as LinuxGuest;
    const job = await push(lab.daemon, machineFor(g, rootAccount, { machineId: 'vm-mismatch', os: { family: 'linux', tag: 'RHEL7-64' } }));
    const err = assertFailure(job, 99011, 'PrerequisiteCheck');
    assert.equal(err.details?.installerOsTag, 'RHEL7-64');
    assert.equal(err.details?.machineOsTag, 'UBUNTU-20.04-64');
  });

  it('GRUB with device names: 95320 naming the offending lines', async () => {
    const g = await guest({ name: 'grub', grubDeviceNames: true });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 95320, 'PrerequisiteCheck');
    assert.match(JSON.stringify(err.details), /root=\/dev\/sda2/);
    assert.match(err.recommendedAction, /UUID/);
  });

  it('a copy whose SHA-256 on the guest is not the repository\'s: 99009 on every attempt (retried: a copy may be damaged once), nothing extracted or installed', async () => {
    const g = await guest({ name: 'badsum', openssl: 'wrong-sha256' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(job.errors[0]?.code, 99009);
    assert.equal(job.errors[0]?.retryable, true);
    assert.equal(job.attempts, 4, 'JOB_RETRIES 3: four attempts');
    assert.equal(job.errors[0]?.details?.actual, '0'.repeat(64));
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
    assert.equal(task(job, 'InstallMobilityService').state, 'NotStarted');
    assert.equal(g.exists('/usr/local/.vx_version'), false);
    assert.deepEqual(staged(g), [], 'staging folder removed after a failure');
  });

  it('a guest with openssl verifies the copy with openssl dgst (as real distributions have it) and succeeds', async () => {
    const g = await guest({ name: 'openssl', openssl: 'host-recorded' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job.errors));
    assert.equal(job.attempts, 1);
    assert.match(g.read(OPENSSL_CALLS), /^dgst -sha256 -r \/tmp\/pushinstall-[0-9a-f-]+\/Microsoft-ASR_UA_9\.30\.0\.0_UBUNTU-20\.04-64_GA_\S+_release\.tar\.gz$/m);
    assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=Succeeded/);
  });

  it('less than 100 MB free for the copy: 95524 before copying', async () => {
    const g = await guest({ name: 'tiny', sizeMiB: 60 });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 95524, 'CopyInstaller');
    assert.equal(err.details?.requiredMiB, 100);
    assert.ok(Number(err.details?.freeMiB) < 100);
    assert.deepEqual(staged(g), []);
  });

  it('less than 2 GB free on /: 99012 at the prerequisite check', async () => {
    const g = await guest({ name: 'small', sizeMiB: 1024 });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99012, 'PrerequisiteCheck');
    assert.equal(err.details?.path, '/');
    assert.equal(err.details?.requiredMiB, 2048);
  });

  it('installer exits non-zero: 99003 with the exit code and the installer log tail', async () => {
    const g = await guest({ name: 'badinstall', behaviour: { installExit: 17, installMessage: 'kernel 5.4.0-999 is not supported by this agent' } });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99003, 'InstallMobilityService');
    assert.equal(err.details?.exitCode, 17);
    assert.match(String(err.details?.installerLogTail), /kernel 5\.4\.0-999 is not supported/);
    assert.match(err.message, /exit code 17/);
    assert.deepEqual(staged(g), []);
    assert.ok(!g.exists('/usr/local/.vx_version'));
  });

  it('configuration server refuses the passphrase: 99004, and the passphrase file is gone', async () => {
    const g = await guest({ name: 'badpass', behaviour: { passphrase: 'the CS expects another passphrase' } });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99004, 'RegisterWithConfigurationServer');
    assert.match(String(err.details?.output), /passphrase is not valid/);
    assert.equal(task(job, 'InstallMobilityService').state, 'Succeeded');
    assert.deepEqual(staged(g), [], 'staging folder and passphrase file removed');
    assert.match(g.read('/usr/local/.vx_version'), /AGENT_CONFIGURATION_STATUS=NotConfigured/);
  });

  it('a damaged installer package: 99013 when extracting, guest cleaned', async () => {
    const g = await guest({ name: 'damaged', os: 'rhel-8' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    assertFailure(job, 99013, 'InstallMobilityService');
    assert.equal(task(job, 'CopyInstaller').state, 'Succeeded');
    assert.deepEqual(staged(g), []);
  });

  it('the configurator says it registered but nothing is recorded: 99014 from the verification', async () => {
    const g = await guest({ name: 'noverify', behaviour: { registerSilentlyFails: true } });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99014, 'RegisterWithConfigurationServer');
    assert.equal(err.details?.expectedVersion, '9.30.0.0');
  });

  it('the configuration server passphrase file is unreadable: 99016 before the guest is touched', async () => {
    const g = guests[0] as LinuxGuest;
    const { renameSync } = await import('node:fs');
    const file = path.join(lab.daemon.dataDir, 'cs.passphrase');
    renameSync(file, `${file}.away`);
    try {
      const job = await push(lab.daemon, machineFor(g, rootAccount, { machineId: 'vm-nocs' }));
      assert.equal(job.state, 'Failed');
      assert.equal(job.errors[0]?.code, 99016);
      assert.equal(job.errors[0]?.details?.cause, 'ENOENT');
      assert.ok(job.tasks.every((t) => t.state === 'NotStarted'), 'nothing ran on the machine');
    } finally {
      renameSync(`${file}.away`, file);
    }
  });

  it('wrong password: 95108', async () => {
    const g = guests[0] as LinuxGuest;
    const bad = await createLinuxAccount(lab.daemon, { name: g.users.root.name, password: 'not-the-password' });
    const job = await push(lab.daemon, machineFor(g, bad, { machineId: 'vm-badpw' }));
    const err = assertFailure(job, 95108, 'CopyInstaller');
    assert.match(String(err.details?.reason), /authentication failed/);
  });

  it('an account that is not root and not a sudoer: 95108', async () => {
    const g = guests[0] as LinuxGuest;
    const user = await createLinuxAccount(lab.daemon, g.users.user);
    const job = await push(lab.daemon, machineFor(g, user, { machineId: 'vm-nonroot' }));
    const err = assertFailure(job, 95108, 'CopyInstaller');
    assert.match(String(err.details?.reason), new RegExp(`not root \\(uid ${g.users.user.uid}\\)`));
    // The uid check goes in front of the probe, in its exec: the probe (which makes the staging folder) never ran.
    assert.ok(!g.exists(`/tmp/pushinstall-${job.id}`), 'no staging folder');
    assert.match(await lab.daemon.client.jobLog(job.id), /\[uid 0 first\]/);
  });

  it('no SFTP subsystem: 95108', async () => {
    const g = await guest({ name: 'nosftp', noSftp: true });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 95108, 'CopyInstaller');
    assert.match(String(err.details?.reason), /SFTP/);
  });

  it('nothing listens at the address: 95117 (retryable, retried, then Failed)', async () => {
    const [job] = [await push(lab.daemon, { machineId: 'vm-gone', address: '127.77.255.254', port: 22, os: { family: 'linux' }, runAsAccountId: rootAccount })];
    assert.equal(job.state, 'Failed');
    const err = job.errors[0] as JobBody['errors'][number];
    assert.equal(err.code, 95117);
    assert.equal(err.retryable, true);
    assert.equal(job.attempts, 4, 'a transient fault is retried (JOB_RETRIES=3)');
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
  });

  it('no installer for the OS: 99001 naming the file to place and where', async () => {
    const g = await guest({ name: 'sles', os: 'sles-12' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99001, 'CopyInstaller');
    assert.match(err.message, /SLES12-64/);
    assert.match(err.message, /Microsoft-ASR_UA_<version>_SLES12-64_GA_<ddMonyyyy>_release\.tar\.gz/);
    assert.match(err.message, /process server cs/);
  });

  it('an OS the agent does not support: 99002 listing the supported ones', async () => {
    const g = await guest({ name: 'plan9', os: 'unknown' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    assert.equal(job.state, 'Failed');
    const err = job.errors[0] as JobBody['errors'][number];
    assert.equal(err.code, 99002);
    assert.match(err.message, /Plan 9 from Bell Labs" is not supported/);
    assert.match(err.message, /Ubuntu 20\.04 LTS \[UBUNTU-20\.04-64\]/, 'the supported ones are listed');
  });

  it('no release file to tell the OS: 99019 asking for the OS tag', async () => {
    const g = await guest({ name: 'norelease', os: 'none' });
    const job = await push(lab.daemon, machineFor(g, rootAccount));
    const err = assertFailure(job, 99019, 'CopyInstaller');
    assert.match(err.message, /Give the OS tag in the request/);
    // With the tag given, the same machine is pushed to.
    const tagged = await push(lab.daemon, machineFor(g, rootAccount, { machineId: 'vm-norelease-tagged', os: { family: 'linux', tag: 'UBUNTU-20.04-64' } }));
    assert.equal(tagged.state, 'Succeeded', JSON.stringify(tagged.errors));
  });
});
