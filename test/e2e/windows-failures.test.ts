// Windows connection and space failures, end to end: wrong password (95107, counted by the lockout
// guard), an account locked out on the guest (95520: smbd answers STATUS_ACCOUNT_LOCKED_OUT after
// `pdbedit -c [L]`), SMB port closed (95105), WinRM port closed (95103), too little space to copy
// (95524) or to install (99012), a package that does not extract (99013), a cancelled install.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closedPort, createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { createWindowsAccount, stagingFolders, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { UNINSTALL_KEY } from '../lab/windows-machine.ts';
import { enable, push, task, waitForJob, type JobBody, type Lab } from './fixtures.ts';

describe('Windows connection and prerequisite failures', () => {
  let lab: Lab;
  let guest: WindowsGuest;
  let locked: WindowsGuest;
  let small: WindowsGuest;
  let slow: WindowsGuest;
  let damaged: WindowsGuest;

  before(async () => {
    lab = await startWindowsLab(['9.30.0.0']);
    const passphrase = lab.daemon.passphrase;
    [guest, locked, small, slow, damaged] = await Promise.all([
      createWindowsGuest({ name: 'guest', behaviour: { passphrase } }),
      createWindowsGuest({ name: 'locked', behaviour: { passphrase } }),
      createWindowsGuest({ name: 'small', behaviour: { passphrase }, freeMiB: 60 }),
      createWindowsGuest({ name: 'slow', behaviour: { passphrase, installDelayMs: 20_000 } }),
      createWindowsGuest({ name: 'damaged', behaviour: { passphrase, extractExit: 2 } }),
    ]);
    await locked.lockAccount();
  });

  after(async () => {
    await Promise.all([guest, locked, small, slow, damaged].map((g) => g?.stop()));
    await lab?.stop();
  });

  it('wrong password: 95107 at the SMB logon, not retried, counted towards the account\'s lockout guard', async () => {
    const id = await createWindowsAccount(lab.daemon, { username: guest.account.username, password: 'Wrong-password-1' });
    const job = await push(lab.daemon, windowsMachineFor(guest, id));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
    assert.equal(job.errors[0]?.code, 95107);
    assert.equal(job.errors[0]?.details?.ntStatus, 'STATUS_LOGON_FAILURE');
    assert.equal(job.attempts, 1);
    const account = await lab.daemon.api<{ authFailures: number }>('GET', `/api/v1/run-as-accounts/${id}`);
    assert.equal(account.body.authFailures, 1);
    assert.equal(guest.machine.commands.length, 0, 'no command ran');
  });

  it('account locked out on the guest: 95520', async () => {
    const job = await push(lab.daemon, windowsMachineFor(locked, await createWindowsAccount(lab.daemon, locked.account)));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(job.errors[0]?.code, 95520);
    assert.equal(job.errors[0]?.details?.ntStatus, 'STATUS_ACCOUNT_LOCKED_OUT');
    assert.match(job.errors[0]?.recommendedAction ?? '', /credentials/);
  });

  it('SMB port closed (File and Printer Sharing off): 95105, before anything else is tried', async () => {
    const job = await push(lab.daemon, windowsMachineFor(guest, await createWindowsAccount(lab.daemon, guest.account), { smbPort: await closedPort() }));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.ok([95105, 95106].includes(job.errors[0]?.code as number), String(job.errors[0]?.code));
    assert.equal(job.errors[0]?.details?.ntStatus, 'ECONNREFUSED');
    assert.equal(job.errors[0]?.retryable, false);
  });

  it('WinRM port closed: 95103 after the SMB session worked', async () => {
    const job = await push(lab.daemon, windowsMachineFor(guest, await createWindowsAccount(lab.daemon, guest.account), { port: await closedPort() }));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(job.errors[0]?.code, 95103);
    assert.match(job.errors[0]?.recommendedAction ?? '', /WinRM/);
    const log = await lab.daemon.api('GET', `/api/v1/jobs/${job.id}/log`);
    assert.match(log.text, /SMB session up/);
  });

  it('less than 100 MB free: 95524 before copying; between 100 and 500 MB: 99012 at the prerequisite check', async () => {
    const id = await createWindowsAccount(lab.daemon, small.account);
    const tooSmall = await push(lab.daemon, windowsMachineFor(small, id));
    assert.equal(tooSmall.state, 'Failed', JSON.stringify(tooSmall, null, 2));
    assert.equal(task(tooSmall, 'CopyInstaller').state, 'Failed');
    assert.equal(tooSmall.errors[0]?.code, 95524);
    assert.equal(tooSmall.errors[0]?.details?.freeMiB, 60);

    small.setFreeMiB(300);
    const tight = await push(lab.daemon, windowsMachineFor(small, id));
    assert.equal(tight.state, 'Failed', JSON.stringify(tight, null, 2));
    assert.equal(task(tight, 'CopyInstaller').state, 'Succeeded');
    assert.equal(task(tight, 'PrerequisiteCheck').state, 'Failed');
    assert.equal(tight.errors[0]?.code, 99012);
    assert.equal(tight.errors[0]?.details?.requiredMiB, 500);
    assert.ok(!small.machine.registry.hasKey(UNINSTALL_KEY));
    assert.deepEqual(stagingFolders(small.machine), []);
  });

  it('a package that does not extract: 99013 with the extractor\'s exit code, UnifiedAgent.exe never run; an extraction without UnifiedAgent.exe: 99013 naming it', async () => {
    const id = await createWindowsAccount(lab.daemon, damaged.account);
    const job = await push(lab.daemon, windowsMachineFor(damaged, id));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]).slice(0, 3), [['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Failed']]);
    assert.equal(job.errors[0]?.code, 99013);
    assert.equal(job.errors[0]?.details?.exitCode, 2);
    assert.match(job.errors[0]?.message ?? '', /could not be extracted on the machine \(exit code 2\)/);
    assert.equal(job.attempts, 1);
    assert.ok(!damaged.machine.commands.some((c) => c.ran.some((r) => /UnifiedAgent\.exe"/.test(r))), 'UnifiedAgent.exe never ran');
    assert.ok(!damaged.machine.registry.hasKey(UNINSTALL_KEY));
    assert.deepEqual(stagingFolders(damaged.machine), []);

    damaged.setBehaviour({ passphrase: lab.daemon.passphrase, extractNothing: true });
    const empty = await push(lab.daemon, windowsMachineFor(damaged, id));
    assert.equal(empty.state, 'Failed', JSON.stringify(empty, null, 2));
    assert.equal(task(empty, 'InstallMobilityService').state, 'Failed');
    assert.equal(empty.errors[0]?.code, 99013);
    assert.match(String(empty.errors[0]?.details?.reason), /^UnifiedAgent\.exe is not in C:\\Windows\\Temp\\pushinstall-[0-9a-f-]+\\Extracted after extraction$/);
    assert.ok(!damaged.machine.registry.hasKey(UNINSTALL_KEY));
    assert.deepEqual(stagingFolders(damaged.machine), []);
  });

  it('cancel during the install: the installer is terminated, the job ends Cancelled, the staging folder is removed', async () => {
    const [submitted] = await enable(lab.daemon, [windowsMachineFor(slow, await createWindowsAccount(lab.daemon, slow.account))]);
    const id = (submitted as { id: string }).id;
    for (;;) {
      const j = await lab.daemon.api<JobBody>('GET', `/api/v1/jobs/${id}`);
      if (task(j.body, 'InstallMobilityService').state === 'InProgress' && slow.machine.commands.some((c) => /UnifiedAgent\.exe"/.test(c.commandLine))) break;
      assert.ok(!['Succeeded', 'Warning', 'Failed', 'Cancelled'].includes(j.body.state), JSON.stringify(j.body));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await lab.daemon.api('POST', `/api/v1/jobs/${id}/cancel`)).status, 202);
    const job = await waitForJob<JobBody>(lab.daemon, id);
    assert.equal(job.state, 'Cancelled', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'InstallMobilityService').state, 'Cancelled');
    assert.deepEqual(stagingFolders(slow.machine), [], 'staging folder removed over a fresh connection');
    const installer = slow.machine.commands.find((c) => /UnifiedAgent\.exe"/.test(c.commandLine));
    for (let i = 0; i < 100 && installer?.exitCode !== -1; i++) await new Promise((r) => setTimeout(r, 50)); // the terminate reaches the guest after the job ends
    assert.equal(installer?.exitCode, -1, 'WinRS terminated the installer');
    assert.ok(!slow.machine.registry.hasKey(UNINSTALL_KEY), 'the terminated installer installed nothing');
  });
});
