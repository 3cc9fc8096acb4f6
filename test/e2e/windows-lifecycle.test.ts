// The agent's life after the first push, on simulated Windows guests (SMB C$ + WinRM), end to end
// through the HTTP API: the manual VSS provider install (after an enable that ended Warning, a script
// that fails, no agent), uninstall (registry verified, a second one Skipped, an MsiExec failure), update
// in steps of at most 4 minor versions keeping folder and registration (3010: 95266; VSS: Warning),
// readiness checks (nothing installed; Windows 2019 with only a 9.21 installer: 99023).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { assertNoRefusals, createWindowsAccount, stagingFolders, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { AGENT_KEY, UNINSTALL_KEY, VSS_SERVICE_KEY } from '../lab/windows-machine.ts';
import { task, waitForJob, type JobBody, type Lab } from './fixtures.ts';
import type { MachineRequest } from '../../src/domain/job.ts';

const DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';
const OWN_DIR = 'C:\\Mobility Agent';
const CS = '10.0.0.4';

const ENDPOINTS = {
  enable: '/api/v1/replication/enable',
  update: '/api/v1/mobility-service/update',
  uninstall: '/api/v1/mobility-service/uninstall',
  vss: '/api/v1/mobility-service/install-vss-provider',
  readiness: '/api/v1/readiness-checks',
};

/** Submits one machine to an endpoint (as the portal) and waits for the job to end. */
async function submit(lab: Lab, what: keyof typeof ENDPOINTS, guest: WindowsGuest, account: string, extra: Partial<MachineRequest> = {}): Promise<JobBody> {
  const res = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', ENDPOINTS[what], { machines: [windowsMachineFor(guest, account, extra)] }, lab.daemon.tokens.portal);
  assert.equal(res.status, 202, res.text);
  return waitForJob<JobBody>(lab.daemon, res.body.jobs[0]?.id as string);
}

const states = (job: JobBody) => job.tasks.map((t) => [t.name, t.state]);
const lines = (g: WindowsGuest, from = 0) => g.machine.commands.slice(from).map((c) => c.commandLine);
/** The commands cmd.exe ran, each part of a batched line on its own. */
const commandsRan = (g: WindowsGuest, from = 0) => g.machine.commands.slice(from).flatMap((c) => c.ran);

describe('Windows agent lifecycle (agents 9.22, 9.26, 9.30 in the repository)', () => {
  let lab: Lab;
  const guests: Record<string, WindowsGuest> = {};
  const accounts: Record<string, string> = {};
  const run = (what: keyof typeof ENDPOINTS, name: string, extra: Partial<MachineRequest> = {}) => submit(lab, what, guests[name] as WindowsGuest, accounts[name] as string, extra);

  before(async () => {
    lab = await startWindowsLab(['9.22.0.0', '9.26.0.0', '9.30.0.0']);
    const passphrase = lab.daemon.passphrase;
    const specs: Record<string, Parameters<typeof createWindowsGuest>[0]> = {
      vss: { windowsVersion: '2016', behaviour: { passphrase, installExit: 511 } },
      bare: { windowsVersion: '2016', behaviour: { passphrase } },
      old: { windowsVersion: '2016', behaviour: { passphrase } },
      reboot: { windowsVersion: '2019', behaviour: { passphrase, installExit: 3010 } },
      msifail: { windowsVersion: '2012R2', behaviour: { passphrase, uninstallExit: 1603 } },
      // The documented advice not followed: agent folder not excluded from Defender, 6.25% of memory available.
      advice: { windowsVersion: '2016', behaviour: { passphrase, defenderExclusions: ['C:\\Temp'], memoryKiB: { total: 4 * 1024 * 1024, free: 256 * 1024 } } },
      rtm: { windowsVersion: '2008R2RTM', behaviour: { passphrase } },
    };
    await Promise.all(Object.entries(specs).map(async ([name, spec]) => {
      guests[name] = await createWindowsGuest({ name, ...spec });
      accounts[name] = await createWindowsAccount(lab.daemon, (guests[name] as WindowsGuest).account);
    }));
    (guests.old as WindowsGuest).machine.preinstallAgent('9.22.0.0', OWN_DIR, { csEndpoint: CS });
    (guests.reboot as WindowsGuest).machine.preinstallAgent('9.26.0.0', DIR, { csEndpoint: CS });
    (guests.msifail as WindowsGuest).machine.preinstallAgent('9.30.0.0', DIR, { csEndpoint: CS });
  });

  after(async () => {
    await Promise.all(Object.values(guests).map((g) => g.stop()));
    await lab?.stop();
  });

  it('install-vss-provider after an enable that ended Warning (VSS 511 on 9.30): Succeeded, provider installed', async () => {
    const g = guests.vss as WindowsGuest;
    const enabled = await run('enable', 'vss');
    assert.equal(enabled.state, 'Warning', JSON.stringify(enabled, null, 2));
    assert.equal(task(enabled, 'InstallVssProvider').state, 'Failed');
    assert.ok(!g.machine.vssInstalled);

    const from = g.machine.commands.length;
    const job = await run('vss', 'vss');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.type, 'install-vss-provider');
    assert.deepEqual(states(job), [['InstallVssProvider', 'Succeeded']]);
    assert.match(task(job, 'InstallVssProvider').message ?? '', /VSS provider installed for agent 9\.30\.0\.0/);
    assert.deepEqual(job.errors, []);
    assert.ok(g.machine.vssInstalled, 'the simulator shows the provider installed');
    assert.ok(g.machine.registry.hasKey(VSS_SERVICE_KEY));
    const scripts = lines(g, from).filter((l) => /InMageVSSProvider/.test(l));
    assert.deepEqual(scripts, [
      `cd /d "${DIR}\\agent" && InMageVSSProvider_Uninstall.cmd`,
      `cd /d "${DIR}\\agent" && InMageVSSProvider_Install.cmd`,
    ], 'uninstall, then install, in the agent folder');
    assert.equal(g.machine.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded', 'registration untouched');
    assertNoRefusals(g.machine);
  });

  it('install-vss-provider with a script that fails (517): Failed 99015 with the cause of that exit code', async () => {
    const g = guests.vss as WindowsGuest;
    g.setBehaviour({ ...g.machine.behaviour, vssInstallExit: 517 });
    const job = await run('vss', 'vss');
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'InstallVssProvider').state, 'Failed');
    const err = job.errors[0];
    assert.equal(err?.code, 99015);
    assert.match(err?.message ?? '', /InMageVSSProvider_Install\.cmd exit code 517/);
    assert.equal(err?.details?.exitCode, 517);
    assert.match(String(err?.details?.cause), /marked for deletion/);
    assert.equal(err?.details?.hresult, '0x80070430');
    assert.match(String(err?.details?.remedy), /Microsoft Azure Site Recovery\\agent/);
    assert.match(String(err?.details?.output), /exit code 517/);
    assert.equal(job.attempts, 1, 'not retried');
    assert.ok(!g.machine.vssInstalled);
    g.setBehaviour({ ...g.machine.behaviour, vssInstallExit: 0 });
  });

  it('on a machine without the agent: install-vss-provider 99021, update 99021, uninstall Skipped', async () => {
    const g = guests.bare as WindowsGuest;
    const vss = await run('vss', 'bare');
    assert.equal(vss.state, 'Failed', JSON.stringify(vss, null, 2));
    assert.equal(vss.errors[0]?.code, 99021);
    assert.equal(task(vss, 'InstallVssProvider').errors[0]?.code, 99021);
    const update = await run('update', 'bare');
    assert.equal(update.state, 'Failed', JSON.stringify(update, null, 2));
    assert.equal(update.errors[0]?.code, 99021);
    assert.equal(task(update, 'CopyInstaller').state, 'Failed');
    const uninstall = await run('uninstall', 'bare');
    assert.equal(uninstall.state, 'Succeeded', JSON.stringify(uninstall, null, 2));
    assert.deepEqual(states(uninstall), [['UninstallMobilityService', 'Skipped']]);
    assert.match(task(uninstall, 'UninstallMobilityService').message ?? '', /not installed/);
    assert.ok(!lines(g).some((l) => /InMageVSSProvider|MsiExec|UnifiedAgent/i.test(l)), 'nothing was run');
    assert.deepEqual(stagingFolders(g.machine), []);
  });

  it('a readiness check makes every check a push would, and installs and copies nothing', async () => {
    const g = guests.bare as WindowsGuest;
    const filesBefore = g.drive.allFiles().sort();
    const from = g.machine.commands.length;
    const job = await run('readiness', 'bare');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.type, 'readiness-check');
    assert.deepEqual(states(job), [['ConnectivityCheck', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded']]);
    assert.match(task(job, 'ConnectivityCheck').message ?? '', /reachable over SMB and WinRM \(HTTP\) as .*Microsoft-ASR_UA_9\.30\.0\.0_Windows_GA_22Oct2019_release\.exe would be pushed/);
    assert.equal(job.agentVersion, '9.30.0.0');
    const ran = commandsRan(g, from);
    assert.ok(ran.some((l) => l.startsWith('whoami /groups')), 'admin check');
    assert.ok(ran.some((l) => /PROCESSOR_ARCHITECTURE/.test(l)), '64-bit check');
    assert.ok(ran.some((l) => /Windows NT\\CurrentVersion/.test(l)), 'Windows version check');
    assert.ok(ran.includes('reg query "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths"'), 'Defender exclusions read from the registry');
    assert.ok(ran.includes('wmic OS get /value'), 'memory figures');
    assert.match(task(job, 'PrerequisiteCheck').message ?? '', /C:\\ProgramData\\ASR\\agent is excluded from Microsoft Defender scanning; memory: 4096 MiB of 8192 MiB available \(50%\)/);
    assert.ok(!ran.some((l) => /certutil|UnifiedAgent|\.exe"/i.test(l)), ran.join('\n'));
    assert.deepEqual(g.drive.allFiles().sort(), filesBefore, 'no file written on the machine');
    assert.ok(!g.machine.registry.hasKey(UNINSTALL_KEY));
    assertNoRefusals(g.machine);
  });

  it('readiness guidance: the agent folder not excluded and under 10% of memory available are warnings, never failures', async () => {
    const job = await run('readiness', 'advice');
    assert.equal(job.state, 'Warning', JSON.stringify(job, null, 2));
    assert.deepEqual(states(job), [['ConnectivityCheck', 'Succeeded'], ['PrerequisiteCheck', 'Warning']]);
    assert.deepEqual(job.errors.map((w) => w.code), [99026, 99027], 'a Warning job lists its warnings as errors');
    const [av, mem] = job.errors;
    assert.equal(av?.details?.excluded, false);
    assert.match(String(av?.recommendedAction), /Exclude C:\\ProgramData\\ASR\\agent from antivirus scanning/);
    assert.deepEqual([mem?.details?.totalMiB, mem?.details?.availableMiB], [4096, 256]);
    assert.match(task(job, 'PrerequisiteCheck').message ?? '', /not in Microsoft Defender's exclusion list; memory: 256 MiB of 4096 MiB available \(6\.3%\): below 10%, and the Mobility Service uses about 6-10%/);
    assertNoRefusals((guests.advice as WindowsGuest).machine);
  });

  it('Windows Server 2008 R2 without SP1 (build 7600): 99023 saying SP1 is needed', async () => {
    const job = await run('readiness', 'rtm');
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(job.errors[0]?.code, 99023);
    assert.match(job.errors[0]?.message ?? '', /build 7600\) is Windows Server 2008 R2 without Service Pack 1/);
    assert.equal(task(job, 'PrerequisiteCheck').state, 'Failed');
  });

  it('update 9.22 → 9.26 → 9.30 in steps, keeping the install folder and the registration', async () => {
    const g = guests.old as WindowsGuest;
    const reg = g.machine.registry;
    const first = await run('update', 'old');
    assert.equal(first.state, 'Succeeded', JSON.stringify(first, null, 2));
    assert.equal(first.type, 'update-agent');
    assert.deepEqual(states(first), [
      ['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded'], ['UpdateMobilityService', 'Succeeded'],
      ['InstallVssProvider', 'Succeeded'], ['RegisterWithConfigurationServer', 'Succeeded'],
    ]);
    assert.equal(first.agentVersion, '9.26.0.0');
    assert.match(task(first, 'UpdateMobilityService').message ?? '', /updated 9\.22\.0\.0 to 9\.26\.0\.0, one step .*update again to reach 9\.30\.0\.0/);
    assert.match(task(first, 'RegisterWithConfigurationServer').message ?? '', /keeps its registration and its install folder/);
    assert.equal(reg.get(UNINSTALL_KEY, 'DisplayVersion'), '9.26.0.0');
    assert.ok(lines(g).some((l) => l.endsWith(`\\Extracted\\UnifiedAgent.exe" /Role "MS" /InstallLocation "${OWN_DIR}" /Platform "VmWare" /Silent`)), 'updated in its own folder');

    const second = await run('update', 'old');
    assert.equal(second.state, 'Succeeded', JSON.stringify(second, null, 2));
    assert.equal(second.agentVersion, '9.30.0.0');
    assert.doesNotMatch(task(second, 'UpdateMobilityService').message ?? '', /update again/);
    assert.equal(reg.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.0.0');
    assert.equal(reg.get(AGENT_KEY, 'InstallDirectory'), OWN_DIR);
    assert.equal(reg.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.equal(reg.get(AGENT_KEY, 'CSEndPoint'), CS);
    assert.equal(g.machine.passphraseFilesRead.length, 0, 'kept its registration: the configurator never ran');

    const third = await run('update', 'old');
    assert.equal(third.state, 'Succeeded', JSON.stringify(third, null, 2));
    assert.equal(task(third, 'UpdateMobilityService').state, 'Skipped');
    assert.deepEqual(stagingFolders(g.machine), []);
    assertNoRefusals(g.machine);
  });

  it('uninstall: Succeeded, the registry keys and the folder are gone; a second uninstall is Skipped', async () => {
    const g = guests.old as WindowsGuest;
    const job = await run('uninstall', 'old');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.type, 'uninstall-agent');
    assert.deepEqual(states(job), [['UninstallMobilityService', 'Succeeded']]);
    assert.ok(lines(g).includes('MsiExec.exe /qn /x {275197FC-14FD-4560-A5EB-38217F80CBD1} /L+*V "C:\\ProgramData\\ASRSetupLogs\\UnifiedAgentMSIUninstall.log"'));
    for (const key of [UNINSTALL_KEY, AGENT_KEY, VSS_SERVICE_KEY]) assert.ok(!g.machine.registry.hasKey(key), `${key} removed`);
    assert.ok(!g.drive.exists(OWN_DIR));
    const again = await run('uninstall', 'old');
    assert.equal(again.state, 'Succeeded', JSON.stringify(again, null, 2));
    assert.equal(task(again, 'UninstallMobilityService').state, 'Skipped');
    assertNoRefusals(g.machine);
  });

  it('an MsiExec failure: Failed 99020 with the exit code and the uninstall log tail; the agent stays', async () => {
    const g = guests.msifail as WindowsGuest;
    const job = await run('uninstall', 'msifail', { os: { family: 'windows', name: 'Windows Server 2012 R2 Datacenter' } });
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    const err = task(job, 'UninstallMobilityService').errors[0];
    assert.equal(err?.code, 99020);
    assert.equal(err?.details?.exitCode, 1603);
    assert.match(err?.message ?? '', /exit code 1603/);
    assert.match(String(err?.details?.uninstallLogTail), /Error 1921/);
    assert.match(String(err?.details?.uninstallLogTail), /Removal failed \(1603\)/);
    assert.ok(g.machine.registry.hasKey(UNINSTALL_KEY));
  });

  it('update with exit 3010: Warning 95266 (the update reboot warning); a VSS failure on 9.30: Warning 99015', async () => {
    const g = guests.reboot as WindowsGuest;
    const os: Partial<MachineRequest> = { os: { family: 'windows', name: 'Windows Server 2019 Datacenter' } };
    const job = await run('update', 'reboot', os);
    assert.equal(job.state, 'Warning', JSON.stringify(job, null, 2));
    assert.equal(job.agentVersion, '9.30.0.0');
    assert.equal(task(job, 'UpdateMobilityService').state, 'Warning');
    assert.equal(task(job, 'UpdateMobilityService').errors[0]?.code, 95266);
    assert.match(task(job, 'UpdateMobilityService').message ?? '', /updated 9\.26\.0\.0 to 9\.30\.0\.0; a reboot is required/);
    assert.equal(task(job, 'InstallVssProvider').state, 'Succeeded');
    assert.equal(task(job, 'RegisterWithConfigurationServer').state, 'Succeeded');
    assert.deepEqual(job.errors.map((e) => e.code), [95266]);
    assert.equal(g.machine.registry.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.0.0');

    g.machine.preinstallAgent('9.26.0.0', DIR, { csEndpoint: CS });
    g.setBehaviour({ ...g.machine.behaviour, installExit: 511 });
    const vss = await run('update', 'reboot', os);
    assert.equal(vss.state, 'Warning', JSON.stringify(vss, null, 2));
    assert.equal(task(vss, 'UpdateMobilityService').state, 'Succeeded');
    assert.equal(task(vss, 'InstallVssProvider').state, 'Failed');
    assert.equal(task(vss, 'RegisterWithConfigurationServer').state, 'Succeeded');
    assert.deepEqual(vss.errors.map((e) => e.code), [99015]);
    assert.deepEqual(stagingFolders(g.machine), []);
    assertNoRefusals(g.machine);
  });
});

describe('Windows readiness check with only agent 9.21', () => {
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

  it('Windows Server 2019: ConnectivityCheck Succeeded, PrerequisiteCheck Failed 99023, nothing copied', async () => {
    const job = await submit(lab, 'readiness', ws2019, await createWindowsAccount(lab.daemon, ws2019.account));
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.deepEqual(states(job), [['ConnectivityCheck', 'Succeeded'], ['PrerequisiteCheck', 'Failed']]);
    const err = job.errors[0];
    assert.equal(err?.code, 99023);
    assert.equal(err?.details?.windowsVersion, '2019');
    assert.equal(err?.details?.requiredAgentVersion, '9.22');
    assert.equal(err?.details?.agentVersion, '9.21.0.0');
    assert.deepEqual(stagingFolders(ws2019.machine), []);
    assert.ok(!ws2019.machine.commands.some((c) => /certutil|UnifiedAgent/i.test(c.commandLine)));
  });
});
