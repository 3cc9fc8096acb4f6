// Windows as a real Windows Server answers (issue 15), end to end through the HTTP API: an installed
// agent that reports its build (DisplayVersion 9.30.5407.1) from a 32-bit MSI (Uninstall key under
// Wow6432Node) on a German server; a French server; remote UAC refusing a filtered local administrator
// the C$ share; a WinRM HTTPS listener that speaks TLS 1.0 only (2008 R2 SP1's Schannel defaults).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WindowsGuest } from '../lab/windows-guest.ts';
import { assertNoRefusals, createWindowsAccount, createWindowsGuests, stagingFolders, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { UNINSTALL_KEY, UNINSTALL_KEY_32 } from '../lab/windows-machine.ts';
import { task, waitForJob, type JobBody, type Lab } from './fixtures.ts';

const ENDPOINTS = { enable: '/api/v1/replication/enable', update: '/api/v1/mobility-service/update', uninstall: '/api/v1/mobility-service/uninstall' };
const states = (job: JobBody) => job.tasks.map((t) => [t.name, t.state]);

describe('Windows as a real Windows Server answers (builds, languages, remote UAC, legacy TLS, both registry views)', () => {
  let lab: Lab;
  let guests: Record<string, WindowsGuest> = {};
  let accounts: Record<string, string> = {};
  let stopGuests = async (): Promise<void> => undefined;
  const submit = async (what: keyof typeof ENDPOINTS, name: string, extra: Record<string, unknown> = {}, account = accounts[name] as string): Promise<JobBody & { installedBuild?: string }> => {
    const res = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', ENDPOINTS[what], { machines: [windowsMachineFor(guests[name] as WindowsGuest, account, extra)] }, lab.daemon.tokens.portal);
    assert.equal(res.status, 202, res.text);
    return waitForJob(lab.daemon, res.body.jobs[0]?.id as string);
  };

  before(async () => {
    lab = await startWindowsLab(['9.26.0.0', '9.30.0.0']);
    const passphrase = lab.daemon.passphrase;
    ({ guests, accounts, stop: stopGuests } = await createWindowsGuests(lab.daemon, {
      de: { windowsVersion: '2016', behaviour: { passphrase, language: 'de-DE', agentBuild: '5407.1', msi32: true } },
      fr: { windowsVersion: '2019', behaviour: { passphrase, language: 'fr-FR', agentBuild: '5407.1' } },
      uac: { windowsVersion: '2016', behaviour: { passphrase, admin: false } },
      tls10: { windowsVersion: '2012R2', https: true, tls10Only: true, behaviour: { passphrase } },
    }));
  });

  after(async () => {
    await stopGuests();
    await lab?.stop();
  });

  it('German server, 32-bit MSI, agent build 9.30.5407.1: enable Succeeded, installedBuild kept; again: nothing to install; update: already there; uninstall', async () => {
    const g = guests.de as WindowsGuest;
    const job = await submit('enable', 'de');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.agentVersion, '9.30.0.0');
    assert.equal(job.installedBuild, '9.30.5407.1');
    assert.equal(g.machine.registry.get(UNINSTALL_KEY_32, 'DisplayVersion'), '9.30.5407.1');
    assert.ok(!g.machine.registry.hasKey(UNINSTALL_KEY), 'the 64-bit view has no Uninstall key');

    const again = await submit('enable', 'de');
    assert.equal(again.state, 'Succeeded', JSON.stringify(again, null, 2));
    assert.equal(task(again, 'InstallMobilityService').state, 'Skipped');
    assert.equal(again.installedBuild, '9.30.5407.1');

    const update = await submit('update', 'de');
    assert.equal(update.state, 'Succeeded', JSON.stringify(update, null, 2));
    assert.equal(task(update, 'UpdateMobilityService').state, 'Skipped');
    assert.match(task(update, 'UpdateMobilityService').message ?? '', /already at the configuration server's version/);

    const removed = await submit('uninstall', 'de');
    assert.equal(removed.state, 'Succeeded', JSON.stringify(removed, null, 2));
    assert.equal(task(removed, 'UninstallMobilityService').state, 'Succeeded');
    assert.equal(g.machine.installedUninstallKey, undefined);
    assertNoRefusals(g.machine);
  });

  it('French server (whoami in French): the SID-based admin check passes; 9.30.5407.1 verified as release 9.30', async () => {
    const job = await submit('enable', 'fr');
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(job.installedBuild, '9.30.5407.1');
    assert.equal((guests.fr as WindowsGuest).machine.registry.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.5407.1');
  });

  it('remote UAC: C$ refused to a filtered local administrator → 95107 naming LocalAccountTokenFilterPolicy, before any command', async () => {
    const g = guests.uac as WindowsGuest;
    const job = await submit('enable', 'uac');
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
    const err = job.errors[0];
    assert.equal(err?.code, 95107);
    assert.equal(err?.details?.ntStatus, 'STATUS_ACCESS_DENIED');
    assert.match(String(err?.details?.reason), /remote UAC/);
    assert.match(String(err?.details?.hint), /LocalAccountTokenFilterPolicy/);
    assert.deepEqual(g.machine.commands, [], 'no command ran');
  });

  it('a domain account refused C$ keeps 95517 (access denied while copying)', async () => {
    const g = guests.uac as WindowsGuest;
    const domainAccount = await createWindowsAccount(lab.daemon, { ...g.account, domain: 'PITEST' });
    const job = await submit('enable', 'uac', {}, domainAccount);
    assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
    assert.equal(job.errors[0]?.code, 95517, JSON.stringify(job.errors[0]));
  });

  it('a TLS-1.0-only WinRM HTTPS listener: 99030 naming winrmTls without it; Succeeded with winrmTls "legacy"', async () => {
    const https = { windowsTransport: 'winrm-https', os: { family: 'windows', tag: 'Windows' } };
    const refused = await submit('enable', 'tls10', https);
    assert.equal(refused.state, 'Failed', JSON.stringify(refused, null, 2));
    const err = refused.errors[0];
    assert.equal(err?.code, 99030);
    assert.match(err?.message ?? '', /TLS 1\.2.*winrmTls "legacy"/);
    assert.equal(err?.retryable, false);
    const job = await submit('enable', 'tls10', { ...https, winrmTls: 'legacy' });
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.deepEqual(states(job).map(([, s]) => s), ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);
    assert.deepEqual(stagingFolders((guests.tls10 as WindowsGuest).machine), []);
  });
});
