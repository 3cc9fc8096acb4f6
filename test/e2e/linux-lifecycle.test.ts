// The agent's life after the first push, on Linux: readiness checks (nothing installed), updates (to the
// configuration server's version, in steps of at most 4 minor versions), uninstall.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, machineFor, startLab, task, waitForJob, type JobBody, type Lab } from './fixtures.ts';
import type { MachineRequest } from '../../src/domain/job.ts';

describe('Linux agent lifecycle', () => {
  let lab: Lab;
  let guest: LinuxGuest;
  let grub: LinuxGuest;
  let account: string;

  const submit = async (endpoint: string, machine: MachineRequest): Promise<JobBody> => {
    const res = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', endpoint, { machines: [machine] }, lab.daemon.tokens.portal);
    assert.equal(res.status, 202, res.text);
    return waitForJob<JobBody>(lab.daemon, res.body.jobs[0]?.id as string);
  };
  const oldAgent = (g: LinuxGuest, version: string) => {
    g.write('/usr/local/.vx_version', `VERSION=${version}\nINSTALLATION_DIR=/usr/local/ASR\nAGENT_CONFIGURATION_STATUS=Succeeded\nCS_IP=10.0.0.4\n`);
  };

  before(async () => {
    lab = await startLab({
      installers: [
        { tag: 'UBUNTU-20.04-64', version: '9.22.0.0' },
        { tag: 'UBUNTU-20.04-64', version: '9.26.0.0' },
        { tag: 'UBUNTU-20.04-64', version: '9.30.0.0' },
        { tag: 'RHEL7-64', version: '9.30.0.0' },
      ],
    });
    guest = await createLinuxGuest({ name: 'life', behaviour: { passphrase: lab.daemon.passphrase } });
    grub = await createLinuxGuest({ name: 'life-grub', grubDeviceNames: true, behaviour: { passphrase: lab.daemon.passphrase } });
    account = await createLinuxAccount(lab.daemon, guest.users.root);
  });
  after(async () => {
    await Promise.all([guest?.destroy(), grub?.destroy()]);
    await lab?.stop();
  });

  it('a readiness check runs every check a push would, and installs nothing', async () => {
    const ok = await submit('/api/v1/readiness-checks', machineFor(guest, account));
    assert.equal(ok.state, 'Succeeded', JSON.stringify(ok, null, 2));
    assert.equal(ok.type, 'readiness-check');
    assert.deepEqual(ok.tasks.map((t) => [t.name, t.state]), [['ConnectivityCheck', 'Succeeded'], ['PrerequisiteCheck', 'Succeeded']]);
    assert.match(task(ok, 'ConnectivityCheck').message ?? '', /9\.30\.0\.0_UBUNTU-20\.04-64.*would be pushed/);
    assert.ok(!guest.exists('/usr/local/.vx_version'));
    assert.deepEqual(readdirSync(guest.hostPath('/tmp')), []);
    const bad = await submit('/api/v1/readiness-checks', machineFor(grub, account));
    assert.equal(bad.state, 'Failed');
    assert.equal(bad.errors[0]?.code, 95320);
    assert.equal(task(bad, 'PrerequisiteCheck').state, 'Failed');
  });

  it('updating an agent that is not installed: 99021', async () => {
    const job = await submit('/api/v1/mobility-service/update', machineFor(guest, account, { machineId: 'vm-upd-none' }));
    assert.equal(job.state, 'Failed');
    assert.equal(job.errors[0]?.code, 99021);
  });

  it('updates 9.22 to 9.30 in steps of at most 4 minor versions, keeping the registration', async () => {
    oldAgent(guest, '9.22.0.0');
    const first = await submit('/api/v1/mobility-service/update', machineFor(guest, account, { machineId: 'vm-upd' }));
    assert.equal(first.state, 'Succeeded', JSON.stringify(first, null, 2));
    assert.equal(first.agentVersion, '9.26.0.0');
    assert.match(task(first, 'UpdateMobilityService').message ?? '', /update again to reach 9\.30\.0\.0/);
    assert.match(task(first, 'RegisterWithConfigurationServer').message ?? '', /keeps its registration/);
    assert.match(guest.read('/usr/local/.vx_version'), /^VERSION=9\.26\.0\.0$/m);
    const second = await submit('/api/v1/mobility-service/update', machineFor(guest, account, { machineId: 'vm-upd' }));
    assert.equal(second.agentVersion, '9.30.0.0');
    assert.match(guest.read('/usr/local/.vx_version'), /^VERSION=9\.30\.0\.0$/m);
    assert.match(guest.read('/usr/local/.vx_version'), /^AGENT_CONFIGURATION_STATUS=Succeeded$/m);
    const third = await submit('/api/v1/mobility-service/update', machineFor(guest, account, { machineId: 'vm-upd' }));
    assert.equal(third.state, 'Succeeded');
    assert.equal(task(third, 'UpdateMobilityService').state, 'Skipped');
  });

  it('a gap with no installer in between: 99022 naming the step to place', async () => {
    const g = await createLinuxGuest({ name: 'life-rhel', os: 'centos-7', behaviour: { passphrase: lab.daemon.passphrase } });
    try {
      oldAgent(g, '9.20.0.0');
      const job = await submit('/api/v1/mobility-service/update', machineFor(g, account));
      assert.equal(job.state, 'Failed');
      assert.equal(job.errors[0]?.code, 99022);
      assert.match(job.errors[0]?.message ?? '', /9\.24/);
      assert.match(g.read('/usr/local/.vx_version'), /^VERSION=9\.20\.0\.0$/m, 'nothing changed');
    } finally {
      await g.destroy();
    }
  });

  it('uninstalls the agent; a second uninstall finds nothing to do', async () => {
    const job = await submit('/api/v1/mobility-service/uninstall', machineFor(guest, account, { machineId: 'vm-rm' }));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.equal(task(job, 'UninstallMobilityService').state, 'Succeeded');
    assert.ok(!guest.exists('/usr/local/.vx_version'));
    assert.ok(!guest.exists('/usr/local/ASR'));
    const again = await submit('/api/v1/mobility-service/uninstall', machineFor(guest, account, { machineId: 'vm-rm' }));
    assert.equal(again.state, 'Succeeded');
    assert.equal(task(again, 'UninstallMobilityService').state, 'Skipped');
  });

  it('the VSS provider job is refused for Linux machines with a clear 400', async () => {
    const res = await lab.daemon.api<{ field: string; message: string }>('POST', '/api/v1/mobility-service/install-vss-provider', { machines: [machineFor(guest, account)] });
    assert.equal(res.status, 400);
    assert.equal(res.body.field, 'machines[0].os.family');
    assert.match(res.body.message, /Windows only/);
  });
});
