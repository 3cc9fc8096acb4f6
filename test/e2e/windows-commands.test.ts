// How many commands a Windows push sends (issue #12, item 2): each command is a WinRM Command, one or
// more Receives and a Signal (at least three sealed HTTP exchanges) or an OpenSSH exec, so the count is
// what a fleet push pays per machine. The reads that can run together go in one cmd.exe line whose
// output is split by nonce-marked sections (src/pipeline/windows/batch.ts); these tests pin the counts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { assertNoRefusals, createWindowsAccount, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { createWindowsSshGuest, type WindowsSshGuest } from '../lab/windows-ssh-guest.ts';
import { push, waitForJob, type JobBody, type Lab } from './fixtures.ts';

describe('commands per Windows push', () => {
  let lab: Lab;
  let winrm: WindowsGuest;
  let ssh: WindowsSshGuest;
  let winrmAccount: string;
  let sshAccount: string;

  before(async () => {
    lab = await startWindowsLab(['9.30.0.0']);
    const behaviour = { passphrase: lab.daemon.passphrase };
    [winrm, ssh] = await Promise.all([createWindowsGuest({ name: 'count', windowsVersion: '2016', behaviour }), createWindowsSshGuest({ windowsVersion: '2019', behaviour })]);
    [winrmAccount, sshAccount] = await Promise.all([createWindowsAccount(lab.daemon, winrm.account), createWindowsAccount(lab.daemon, ssh.account)]);
  });

  after(async () => {
    await Promise.all([winrm?.stop(), ssh?.stop()]);
    await lab?.stop();
  });

  const lines = (g: { machine: WindowsGuest['machine'] }, from: number) => g.machine.commands.slice(from).map((c) => c.commandLine);

  it('a fresh enable over SMB + WinRM', async () => {
    const from = winrm.machine.commands.length;
    const stats = winrm.winrmStats();
    const job = await push(lab.daemon, windowsMachineFor(winrm, winrmAccount));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const sent = lines(winrm, from);
    const now = winrm.winrmStats();
    const exchanges = now.encryptedMessages - stats.encryptedMessages;
    console.log(`WinRM enable: ${sent.length} commands, ${now.commands - stats.commands} WinRM Commands, ${now.receives - stats.receives} Receives, ${now.signals - stats.signals} Signals, ${exchanges} sealed HTTP requests\n${sent.join('\n')}`);
    assert.equal(sent.length, -1, sent.join('\n'));
    assertNoRefusals(winrm.machine);
  });

  it('a fresh enable over OpenSSH (free space read with dir, no SMB)', async () => {
    const from = ssh.machine.commands.length;
    const job = await push(lab.daemon, {
      machineId: `vm-${ssh.name}`, address: ssh.address, port: ssh.port, windowsTransport: 'ssh',
      os: { family: 'windows', name: 'Windows Server 2019 Standard' }, runAsAccountId: sshAccount,
    });
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const sent = lines(ssh, from);
    console.log(`SSH enable: ${sent.length} commands\n${sent.join('\n')}`);
    assert.equal(sent.length, -1, sent.join('\n'));
    assertNoRefusals(ssh.machine);
  });

  it('a readiness check over SMB + WinRM', async () => {
    const from = winrm.machine.commands.length;
    const res = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/readiness-checks', { machines: [windowsMachineFor(winrm, winrmAccount)] }, lab.daemon.tokens.portal);
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob<JobBody>(lab.daemon, res.body.jobs[0]?.id as string);
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const sent = lines(winrm, from);
    console.log(`readiness: ${sent.length} commands\n${sent.join('\n')}`);
    assert.equal(sent.length, -1, sent.join('\n'));
  });
});
