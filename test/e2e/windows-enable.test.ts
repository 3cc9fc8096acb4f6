// Enable replication on simulated Windows guests (SMB C$ + WinRM), end to end through the HTTP API,
// with agent 9.30: success, the VSS Warning rule, reboot pending, installer failure, non-admin
// account, wrong passphrase, HTTPS certificate pinning, and no secret anywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import {
  assertNoRefusals, assertNoSecretsAnywhere, assertSecretNotOnGuest, createWindowsAccount, stagingFolders, startWindowsLab, windowsMachineFor,
} from '../lab/windows-fixtures.ts';
import { AGENT_KEY, UNINSTALL_KEY } from '../lab/windows-machine.ts';
import { push, task, type JobBody, type Lab } from './fixtures.ts';

const DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';

describe('enable replication on Windows (SMB + WinRM, agent 9.30)', () => {
  let lab: Lab;
  const guests: Record<string, WindowsGuest> = {};
  const accounts: Record<string, string> = {};
  const apiBodies: string[] = [];

  const run = async (name: string, extra: Record<string, unknown> = {}): Promise<JobBody> => {
    const guest = guests[name] as WindowsGuest;
    const job = await push(lab.daemon, windowsMachineFor(guest, accounts[name] as string, extra));
    apiBodies.push(JSON.stringify(job));
    return job;
  };

  before(async () => {
    lab = await startWindowsLab(['9.29.0.0', '9.30.0.0']);
    const passphrase = lab.daemon.passphrase;
    const specs: Record<string, Parameters<typeof createWindowsGuest>[0]> = {
      ok: { windowsVersion: '2016', behaviour: { passphrase } },
      vss: { windowsVersion: '2016', behaviour: { passphrase, installExit: 511 } },
      reboot: { windowsVersion: '2019', behaviour: { passphrase, installExit: 3010 } },
      broken: { windowsVersion: '2016', behaviour: { passphrase, installExit: 1603, installMessage: 'Setup cannot continue: the filter driver InDskFlt could not be loaded (0x80070005).' } },
      user: { windowsVersion: '2016', behaviour: { passphrase, admin: false } },
      badpass: { windowsVersion: '2012R2', behaviour: { passphrase: 'not-the-configured-passphrase' } },
      https: { windowsVersion: '2019', https: true, behaviour: { passphrase } },
    };
    await Promise.all(Object.entries(specs).map(async ([name, spec]) => {
      guests[name] = await createWindowsGuest({ name, ...spec });
      accounts[name] = await createWindowsAccount(lab.daemon, (guests[name] as WindowsGuest).account);
    }));
  });

  after(async () => {
    await Promise.all(Object.values(guests).map((g) => g.stop()));
    await lab?.stop();
  });

  it('Windows Server 2016: copies, checks, installs, registers; registry verified, staging folder gone', async () => {
    const g = guests.ok as WindowsGuest;
    const job = await run('ok');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.agentVersion, '9.30.0.0', 'highest Windows version chosen');
    assert.match(job.installer?.file ?? '', /^Microsoft-ASR_UA_9\.30\.0\.0_Windows_GA_22Oct2019_release\.exe$/);
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Succeeded'],
      ['InstallVssProvider', 'Succeeded'], ['RegisterWithConfigurationServer', 'Succeeded'],
    ]);
    assert.deepEqual(job.errors, []);
    const reg = g.machine.registry;
    assert.equal(reg.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.0.0');
    assert.equal(reg.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.equal(reg.get(AGENT_KEY, 'CSEndPoint'), '10.0.0.4');
    assert.equal(reg.get(AGENT_KEY, 'InstallDirectory'), DIR);
    assert.ok(g.machine.vssInstalled);
    assert.ok(g.drive.exists(`${DIR}\\agent\\UnifiedAgentConfigurator.exe`));
    assert.deepEqual(stagingFolders(g.machine), [], 'staging folder removed');
    assert.equal(g.machine.passphraseFilesRead.length, 1, 'the configurator read the passphrase from a file');
    assertNoRefusals(g.machine);
    assertSecretNotOnGuest(g.machine, lab.daemon.passphrase);
    assertSecretNotOnGuest(g.machine, g.account.password);
    // The exact contract command lines (guest-contract.md, Windows steps 4-6); extract and install are one
    // line, the installer run only after the extraction exited 0 and printed its marker.
    const lines = g.machine.commands.map((c) => c.commandLine);
    const stage = String.raw`C:\\Windows\\Temp\\pushinstall-[0-9a-f-]+`;
    const extractThenInstall = new RegExp(String.raw`^cd /d "(${stage})" && "\1\\Microsoft-ASR_UA_9\.30\.0\.0_Windows_GA_22Oct2019_release\.exe" /q /x:"\1\\Extracted"`
      + String.raw` && echo [0-9a-f]{24} extracted && cd /d "\1\\Extracted" && "\1\\Extracted\\UnifiedAgent\.exe" /Role "MS" /InstallLocation "([^"]+)" /Platform "VmWare" /Silent$`);
    assert.ok(lines.some((l) => extractThenInstall.exec(l)?.[2] === DIR), lines.join('\n'));
    assert.ok(lines.some((l) => /\\agent\\UnifiedAgentConfigurator\.exe" \/CSEndPoint 10\.0\.0\.4 \/PassphraseFilePath "C:\\Windows\\Temp\\pushinstall-[0-9a-f-]+\\passphrase\.txt"$/.test(l)), lines.join('\n'));
  });

  it('a second push to the same guest finds the agent installed and registered: nothing to do', async () => {
    const g = guests.ok as WindowsGuest;
    const before = g.machine.commands.length;
    const job = await run('ok');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Skipped'], ['InstallMobilityService', 'Skipped'],
      ['InstallVssProvider', 'Skipped'], ['RegisterWithConfigurationServer', 'Skipped'],
    ]);
    assert.match(task(job, 'CopyInstaller').message ?? '', /9\.30\.0\.0 is already installed/);
    assert.ok(!g.machine.commands.slice(before).some((c) => /UnifiedAgent/.test(c.commandLine)), 'nothing was run again');
  });

  it('VSS provider exit 511 with agent 9.30: job Warning, VSS task Failed with the cause and the remedy, registered', async () => {
    const g = guests.vss as WindowsGuest;
    const job = await run('vss');
    assert.equal(job.state, 'Warning', JSON.stringify(job, null, 2));
    assert.deepEqual(job.tasks.map((t) => [t.name, t.state]), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['InstallMobilityService', 'Succeeded'],
      ['InstallVssProvider', 'Failed'], ['RegisterWithConfigurationServer', 'Succeeded'],
    ]);
    const vss = task(job, 'InstallVssProvider').errors[0];
    assert.equal(vss?.code, 99015);
    assert.match(vss?.message ?? '', /exit code 511/);
    assert.match(String(vss?.details?.cause), /antivirus/i);
    assert.match(String(vss?.details?.remedy), /InMageVSSProvider_Install\.cmd/);
    assert.match(String(vss?.details?.remedy), /Microsoft Azure Site Recovery\\agent/);
    assert.match(vss?.recommendedAction ?? '', /InMageVSSProvider_Install\.cmd/);
    assert.deepEqual(job.errors.map((e) => e.code), [99015], 'the job carries the warning');
    assert.equal(g.machine.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.ok(!g.machine.vssInstalled);
    assert.deepEqual(stagingFolders(g.machine), []);
    assertNoRefusals(g.machine);
  });

  it('exit 3010 (reboot required): job Warning with 95265, installed and registered', async () => {
    const g = guests.reboot as WindowsGuest;
    const job = await run('reboot', { os: { family: 'windows', name: 'Windows Server 2019 Datacenter' } });
    assert.equal(job.state, 'Warning', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'InstallMobilityService').state, 'Warning');
    assert.equal(task(job, 'InstallMobilityService').errors[0]?.code, 95265);
    assert.equal(task(job, 'InstallVssProvider').state, 'Succeeded');
    assert.equal(task(job, 'RegisterWithConfigurationServer').state, 'Succeeded');
    assert.deepEqual(job.errors.map((e) => e.code), [95265]);
    assert.equal(g.machine.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
  });

  it('installer failure: Failed with 99003, the exit code and the installer log tail read over SMB', async () => {
    const g = guests.broken as WindowsGuest;
    const job = await run('broken');
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'InstallMobilityService').state, 'Failed');
    assert.equal(task(job, 'InstallVssProvider').state, 'NotStarted');
    assert.equal(task(job, 'RegisterWithConfigurationServer').state, 'NotStarted');
    const err = job.errors[0];
    assert.equal(err?.code, 99003);
    assert.equal(err?.details?.exitCode, 1603);
    assert.match(String(err?.details?.installerLogTail), /filter driver InDskFlt could not be loaded/);
    assert.match(String(err?.details?.installerLogTail), /Installation failed with exit code 1603/);
    assert.equal(err?.retryable, false);
    assert.equal(job.attempts, 1, 'not retried');
    assert.deepEqual(stagingFolders(g.machine), [], 'staging folder removed after a failure');
  });

  it('an account without administrator rights (UAC-filtered local account): 95107 when C$ is refused, as Windows does', async () => {
    const g = guests.user as WindowsGuest;
    const job = await run('user');
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
    const err = job.errors[0];
    assert.equal(err?.code, 95107);
    assert.match(String(err?.details?.reason), /remote UAC/);
    assert.match(String(err?.details?.hint), /LocalAccountTokenFilterPolicy/);
    assert.ok(!g.machine.registry.hasKey(UNINSTALL_KEY), 'nothing installed');
    assert.deepEqual(stagingFolders(g.machine), []);
  });

  it('a passphrase the configuration server refuses: 99004, and the passphrase file is removed anyway', async () => {
    const g = guests.badpass as WindowsGuest;
    const job = await run('badpass', { os: { family: 'windows', name: 'Windows Server 2012 R2 Datacenter' } });
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'RegisterWithConfigurationServer').state, 'Failed');
    const err = job.errors[0];
    assert.equal(err?.code, 99004);
    assert.match(String(err?.details?.configuratorLogTail), /passphrase is not valid/);
    assert.equal(g.machine.passphraseFilesRead.length, 1);
    assert.ok(!g.drive.exists(g.machine.passphraseFilesRead[0] as string), 'passphrase file removed');
    assert.deepEqual(stagingFolders(g.machine), []);
    assertSecretNotOnGuest(g.machine, lab.daemon.passphrase);
  });

  it('WinRM over HTTPS: the certificate is pinned on first use; a different certificate later is refused (99024)', async () => {
    const g = guests.https as WindowsGuest;
    const first = await run('https', { windowsTransport: 'winrm-https', os: { family: 'windows', tag: 'Windows' } });
    assert.equal(first.state, 'Succeeded', JSON.stringify(first, null, 2));
    const log = await lab.daemon.api('GET', `/api/v1/jobs/${first.id}/log`);
    assert.ok(log.text.includes(`pinned WinRM certificate ${g.certificateFingerprint}`), log.text);
    await g.renewCertificate();
    const second = await run('https', { windowsTransport: 'winrm-https', os: { family: 'windows', tag: 'Windows' } });
    assert.equal(second.state, 'Failed', JSON.stringify(second, null, 2));
    assert.equal(second.errors[0]?.code, 99024);
    assert.equal(second.errors[0]?.details?.presented, g.certificateFingerprint);
    assertNoRefusals(g.machine);
  });

  it('no run-as password or CS passphrase in logs, Redis or API responses', async () => {
    await assertNoSecretsAnywhere(lab, [lab.daemon.passphrase, ...Object.values(guests).map((g) => g.account.password)], apiBodies);
  });
});
