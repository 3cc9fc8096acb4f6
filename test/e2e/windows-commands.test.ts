// How many commands a Windows push sends (issue #12, item 2): each command is a WinRM Command, one or
// more Receives and a Signal (at least three sealed HTTP exchanges) or an OpenSSH exec, so the count is
// what a fleet push pays per machine. The reads that can run together go in one cmd.exe line whose
// output is split by nonce-marked parts (src/pipeline/windows/batch.ts), and extraction and install
// share one line; these tests pin the counts. Before the batching a fresh enable sent 11 commands over
// WinRM (35 sealed HTTP requests) and 13 over OpenSSH, a readiness check 7.
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
    // agent state + staging free space | SHA-256 + prerequisite reads | extract + install | register | read back
    assert.equal(sent.length, 5, sent.join('\n'));
    assert.equal(now.shells - stats.shells, 1, 'one WinRM shell for the job');
    assert.equal(now.commands - stats.commands, 5);
    assert.equal(now.signals - stats.signals, 5);
    // Create, then Command + Receive (more Receives only when a command outlasts the OperationTimeout) + Signal per command, then Delete.
    assert.equal(now.encryptedMessages - stats.encryptedMessages, 2 + 2 * 5 + (now.receives - stats.receives));
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
    // The same five: free space (dir) rides along in the first two.
    assert.equal(sent.length, 5, sent.join('\n'));
    assert.ok(sent[0]?.includes('dir /-c "C:"') && sent[1]?.includes('dir /-c "C:"'), 'staging volume before the copy, install volume after it');
    assertNoRefusals(ssh.machine);
  });

  it('a readiness check over SMB + WinRM', async () => {
    const from = winrm.machine.commands.length;
    const res = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/readiness-checks', { machines: [windowsMachineFor(winrm, winrmAccount)] }, lab.daemon.tokens.portal);
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob<JobBody>(lab.daemon, res.body.jobs[0]?.id as string);
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const sent = lines(winrm, from);
    assert.equal(sent.length, 1, sent.join('\n'));
  });

  it('a push to a machine whose agent is current and registered: one command', async () => {
    const from = winrm.machine.commands.length;
    const job = await push(lab.daemon, windowsMachineFor(winrm, winrmAccount));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(lines(winrm, from).length, 1, lines(winrm, from).join('\n'));
  });
});
