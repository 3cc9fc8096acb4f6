// Enable replication on a Windows guest over OpenSSH (windowsTransport "ssh"), end to end: a lab sshd
// whose sessions run the Windows guest simulator; commands in cmd.exe syntax, files over SFTP, no SMB.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNoRefusals, assertNoSecretsAnywhere, assertSecretNotOnGuest, createWindowsAccount, stagingFolders, startWindowsLab } from '../lab/windows-fixtures.ts';
import { AGENT_KEY, UNINSTALL_KEY } from '../lab/windows-machine.ts';
import { createWindowsSshGuest, type WindowsSshGuest } from '../lab/windows-ssh-guest.ts';
import { push, task, type JobBody, type Lab } from './fixtures.ts';
import type { MachineRequest } from '../../src/domain/job.ts';

describe('enable replication on Windows over OpenSSH', () => {
  let lab: Lab;
  let guest: WindowsSshGuest;
  let accountId: string;
  const apiBodies: string[] = [];

  before(async () => {
    lab = await startWindowsLab(['9.30.0.0']);
    guest = await createWindowsSshGuest({ windowsVersion: '2019', behaviour: { passphrase: lab.daemon.passphrase } });
    accountId = await createWindowsAccount(lab.daemon, guest.account);
  });

  after(async () => {
    await guest?.stop();
    await lab?.stop();
  });

  const machine = (): MachineRequest => ({
    machineId: `vm-${guest.name}`, address: guest.address, port: guest.port, windowsTransport: 'ssh',
    os: { family: 'windows', name: 'Windows Server 2019 Standard' }, runAsAccountId: accountId,
  });

  it('Windows Server 2019 over OpenSSH: Succeeded; copy over SFTP verified with certutil; registry shows it registered', async () => {
    const job: JobBody = await push(lab.daemon, machine());
    apiBodies.push(JSON.stringify(job));
    assert.equal(job.state, 'Succeeded', `${JSON.stringify(job, null, 2)}\n${guest.sshdLog().slice(-2000)}`);
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Succeeded'],
      ['InstallVssProvider', 'Succeeded'], ['RegisterWithConfigurationServer', 'Succeeded'],
    ]);
    assert.equal(guest.machine.registry.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.0.0');
    assert.equal(guest.machine.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.ok(guest.machine.commands.every((c) => c.user === guest.account.username), 'commands ran as the run-as account');
    assert.ok(guest.machine.commands.some((c) => c.ran.includes('dir /-c "C:"')), 'free space read with dir (no SMB)');
    const log = await lab.daemon.api('GET', `/api/v1/jobs/${job.id}/log`);
    apiBodies.push(log.text);
    assert.match(log.text, /over OpenSSH/);
    assert.match(log.text, /over SFTP/);
    assert.doesNotMatch(log.text, /SMB session/);
    assert.deepEqual(stagingFolders(guest.machine), [], 'staging folder removed');
    assert.equal(guest.machine.passphraseFilesRead.length, 1);
    assertNoRefusals(guest.machine);
    assertSecretNotOnGuest(guest.machine, lab.daemon.passphrase);
  });

  it('a copy that does not verify (99009) is retried; the retry finds the file intact and skips the copy', async () => {
    guest.machine.registry.deleteKey(UNINSTALL_KEY);
    guest.machine.registry.deleteKey(AGENT_KEY);
    guest.machine.behaviour.corruptHashes = 1;
    const job: JobBody = await push(lab.daemon, machine());
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.attempts, 2);
    assert.equal((job as unknown as { attemptLog: Array<{ error?: { code: number } }> }).attemptLog[0]?.error?.code, 99009);
    assert.match(task(job, 'CopyInstaller').message ?? '', /copy skipped: .* same SHA-256/);
    const log = await lab.daemon.api('GET', `/api/v1/jobs/${job.id}/log`);
    apiBodies.push(log.text);
    assert.match(log.text, /keeping C:\\Windows\\Temp\\pushinstall-/);
    assert.equal(guest.machine.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.deepEqual(stagingFolders(guest.machine), [], 'removed after the successful attempt');
  });

  it('no run-as password or CS passphrase in logs, Redis or API responses', async () => {
    await assertNoSecretsAnywhere(lab, [lab.daemon.passphrase, guest.account.password], apiBodies);
  });
});
