// Linux sudo mode (guest-contract.md: `sudo -n`): a non-root sudoer with useSudo installs the agent as
// root through sudo; a sudoer that must type a password, a guest without sudo, and a non-root account
// without useSudo each fail with 95108 saying why. Guests run a real sudo inside their chroot.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, machineFor, push, task, type JobBody, type Lab, startLab } from './fixtures.ts';

function only95108(job: JobBody): JobBody['errors'][number] {
  assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
  const err = job.errors[0] as JobBody['errors'][number];
  assert.equal(err.code, 95108, JSON.stringify(err));
  assert.equal(task(job, 'CopyInstaller').state, 'Failed');
  assert.equal(job.attempts, 1);
  return err;
}

describe('Linux sudo mode', () => {
  let lab: Lab;
  let sudoGuest: LinuxGuest;
  let passwordGuest: LinuxGuest;
  let plainGuest: LinuxGuest;
  let sudoAccount: string;

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    const behaviour = { passphrase: lab.daemon.passphrase };
    [sudoGuest, passwordGuest, plainGuest] = await Promise.all([
      createLinuxGuest({ name: 'sudo', sudo: true, behaviour }),
      createLinuxGuest({ name: 'sudopw', sudo: 'password', behaviour }),
      createLinuxGuest({ name: 'nosudo', behaviour }),
    ]);
    sudoAccount = await createLinuxAccount(lab.daemon, sudoGuest.users.sudo, { useSudo: true });
  });
  after(async () => {
    await Promise.all([sudoGuest, passwordGuest, plainGuest].map((g) => g?.destroy()));
    await lab?.stop();
  });

  it('a password-less sudoer with useSudo installs and registers the agent as root', async () => {
    const account = await lab.daemon.api<{ useSudo: boolean; username: string }>('GET', `/api/v1/run-as-accounts/${sudoAccount}`);
    assert.equal(account.body.useSudo, true);
    const job = await push(lab.daemon, machineFor(sudoGuest, sudoAccount));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const vx = sudoGuest.read('/usr/local/.vx_version');
    assert.match(vx, /^VERSION=9\.30\.0\.0$/m);
    assert.match(vx, /^AGENT_CONFIGURATION_STATUS=Succeeded$/m);
    for (const file of ['/usr/local/.vx_version', '/usr/local/ASR', '/usr/local/ASR/Vx/bin/UnifiedAgentConfigurator.sh', '/var/log/ua_install.log']) {
      assert.equal(statSync(sudoGuest.hostPath(file)).uid, 0, `${file} is owned by root`);
    }
    assert.deepEqual(readdirSync(sudoGuest.hostPath('/tmp')), [], 'staging folder (created by the sudoer, extracted by root) removed');
    const log = await lab.daemon.client.jobLog(job.id);
    assert.match(log, /as pilab-sudo/);
    assert.match(log, /\(via sudo -n\)/);
    assert.match(log, /privileged commands via sudo -n/);
    // sudo's logon is not an authentication failure of the account.
    const after = await lab.daemon.api<{ authFailures: number; suspended: boolean }>('GET', `/api/v1/run-as-accounts/${sudoAccount}`);
    assert.deepEqual([after.body.authFailures, after.body.suspended], [0, false]);
  });

  it('a sudoer that must type a password: 95108 "sudo asks for a password", nothing left on the guest', async () => {
    const account = await createLinuxAccount(lab.daemon, passwordGuest.users.sudo, { useSudo: true });
    const job = await push(lab.daemon, machineFor(passwordGuest, account));
    const err = only95108(job);
    assert.match(err.message, /^sudo asks for a password/);
    assert.match(String(err.details?.reason), /sudo asks for a password for pilab-sudo.*NOPASSWD/);
    assert.match(String(err.details?.stderr), /a password is required/);
    assert.ok(!passwordGuest.exists('/usr/local/.vx_version'));
    assert.deepEqual(readdirSync(passwordGuest.hostPath('/tmp')), []);
  });

  it('a sudoer whose password-less rule covers `true` only: passes the check, then 95108 at the first real command', async (t) => {
    const guest = await createLinuxGuest({ name: 'sudotrue', sudo: 'true-only', behaviour: { passphrase: lab.daemon.passphrase } });
    t.after(() => guest.destroy());
    const account = await createLinuxAccount(lab.daemon, guest.users.sudo, { useSudo: true });
    const job = await push(lab.daemon, machineFor(guest, account));
    const err = only95108(job);
    assert.match(err.message, /^sudo asks for a password/);
    const log = await lab.daemon.client.jobLog(job.id);
    assert.match(log, /connected to .*privileged commands via sudo -n/, 'sudo -n true passed at connect');
    assert.ok(!guest.exists('/usr/local/.vx_version'));
  });

  it('useSudo on a guest without sudo: 95108 saying sudo is not installed', async () => {
    const account = await createLinuxAccount(lab.daemon, plainGuest.users.sudo, { useSudo: true });
    const err = only95108(await push(lab.daemon, machineFor(plainGuest, account)));
    assert.match(String(err.details?.reason), /sudo is not installed/);
  });

  it('the sudoer without useSudo: 95108 not root', async () => {
    const account = await createLinuxAccount(lab.daemon, sudoGuest.users.sudo);
    const err = only95108(await push(lab.daemon, machineFor(sudoGuest, account, { machineId: 'vm-sudo-not-set' })));
    assert.match(String(err.details?.reason), /not root \(uid 47002\) and is not set to use sudo/);
  });
});
