// The agent-version rules on Windows, end to end: a VSS provider failure fails the job with agent 9.22
// and earlier; Windows Server 2019 needs agent 9.22 (99023 with 9.21); 32-bit Windows is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { assertNoRefusals, createWindowsAccount, stagingFolders, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { UNINSTALL_KEY } from '../lab/windows-machine.ts';
import { push, task, type Lab } from './fixtures.ts';

describe('Windows with agent 9.22', () => {
  let lab: Lab;
  let vss: WindowsGuest;
  let x86: WindowsGuest;
  let ok2019: WindowsGuest;

  before(async () => {
    lab = await startWindowsLab(['9.22.0.0']);
    const passphrase = lab.daemon.passphrase;
    [vss, x86, ok2019] = await Promise.all([
      createWindowsGuest({ name: 'vss', windowsVersion: '2012R2', behaviour: { passphrase, installExit: 511 } }),
      createWindowsGuest({ name: 'x86', windowsVersion: '2008', arch: 'x86', behaviour: { passphrase } }),
      createWindowsGuest({ name: 'ws2019', windowsVersion: '2019', behaviour: { passphrase } }),
    ]);
  });

  after(async () => {
    await Promise.all([vss, x86, ok2019].map((g) => g?.stop()));
    await lab?.stop();
  });

  it('VSS provider exit 511 with agent 9.22: the install and the job fail (99015), nothing is registered', async () => {
    const job = await push(lab.daemon, windowsMachineFor(vss, await createWindowsAccount(lab.daemon, vss.account)));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Failed'],
      ['InstallVssProvider', 'Failed'], ['RegisterWithConfigurationServer', 'NotStarted'],
    ]);
    const err = job.errors[0];
    assert.equal(err?.code, 99015);
    assert.match(String(err?.details?.cause), /antivirus.*exclude C:\\ProgramData\\ASR\\agent from antivirus scanning/i);
    assert.match(String(err?.details?.impact), /9\.22 and earlier/);
    assert.match(String(err?.details?.remedy), /InMageVSSProvider_Install\.cmd/);
    // The documented remedy for agent 9.22 and earlier: agent 9.23 or later (VSS then only warns), provider by hand.
    assert.match(String(err?.details?.remedy), /^Use agent 9\.23 or later \(a VSS provider failure then only warns/);
    assert.match(String(err?.recommendedAction), /use agent 9\.23 or later/);
    assert.equal(task(job, 'InstallVssProvider').errors[0]?.code, 99015);
    assert.equal(vss.machine.passphraseFilesRead.length, 0, 'registration never ran');
    assert.deepEqual(stagingFolders(vss.machine), []);
    assertNoRefusals(vss.machine);
  });

  it('Windows Server 2019 with agent 9.22 is supported', async () => {
    const job = await push(lab.daemon, windowsMachineFor(ok2019, await createWindowsAccount(lab.daemon, ok2019.account)));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(ok2019.machine.registry.get(UNINSTALL_KEY, 'DisplayVersion'), '9.22.0.0');
  });

  it('32-bit Windows: prerequisite failure 99010, nothing installed', async () => {
    const job = await push(lab.daemon, windowsMachineFor(x86, await createWindowsAccount(lab.daemon, x86.account), { os: { family: 'windows' } }));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'PrerequisiteCheck').state, 'Failed');
    assert.equal(job.errors[0]?.code, 99010);
    assert.equal(job.errors[0]?.details?.PROCESSOR_ARCHITECTURE, 'x86');
    assert.ok(!x86.machine.registry.hasKey(UNINSTALL_KEY));
    assert.deepEqual(stagingFolders(x86.machine), []);
  });
});

describe('Windows with agent 9.21', () => {
  let lab: Lab;
  let ws2019: WindowsGuest;

  before(async () => {
    lab = await startWindowsLab(['9.21.0.0']);
    ws2019 = await createWindowsGuest({ name: 'ws2019', windowsVersion: '2019', behaviour: { passphrase: lab.daemon.passphrase } });
  });

  after(async () => {
    await ws2019?.stop();
    await lab?.stop();
  });

  it('Windows Server 2019 with agent 9.21: prerequisite failure 99023 naming the version needed', async () => {
    // The request says 2016; the machine's registry says 2019, and the machine is what counts.
    const job = await push(lab.daemon, windowsMachineFor(ws2019, await createWindowsAccount(lab.daemon, ws2019.account)));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Failed'], ['InstallMobilityService', 'NotStarted'],
      ['InstallVssProvider', 'NotStarted'], ['RegisterWithConfigurationServer', 'NotStarted'],
    ]);
    const err = job.errors[0];
    assert.equal(err?.code, 99023);
    assert.equal(err?.details?.windowsVersion, '2019');
    assert.equal(err?.details?.requiredAgentVersion, '9.22');
    assert.equal(err?.details?.agentVersion, '9.21.0.0');
    assert.equal(err?.retryable, false);
    assert.ok(!ws2019.machine.registry.hasKey(UNINSTALL_KEY));
    assert.deepEqual(stagingFolders(ws2019.machine), []);
  });
});
