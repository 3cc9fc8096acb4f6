// The installer repository through the daemon: listing and rejected files, OS support, the CS_VERSION
// ceiling, files added/replaced/removed while the daemon runs (no restart; a half-written file is
// never used), the manual-placement message, and per-process-server repositories.
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../lab/daemon.ts';
import { buildLinuxInstaller, installerFileName } from '../lab/installers.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, machineFor, push, startLab, until, type Lab } from './fixtures.ts';

interface Installer { file: string; osTag: string; version: string; sha256: string; size: number; platform: string; releaseDate: string }
interface Listing { installers: Installer[]; rejected: Array<{ file: string; reason: string }> }
interface OsSupport { tag: string; manualPlacement: boolean; present: boolean; latestVersion?: string; selectableVersion?: string; osNames: string[] }


describe('installer repository through the daemon', () => {
  let lab: Lab;
  let ubuntu: LinuxGuest;
  let centos: LinuxGuest;
  let account: string;
  let v930: string;
  const listing = async () => (await lab.daemon.api<Listing>('GET', '/api/v1/repository/installers', undefined, lab.daemon.tokens.operator)).body;

  before(async () => {
    lab = await startLab({
      installers: [
        { tag: 'UBUNTU-20.04-64', version: '9.29.0.0' },
        { tag: 'UBUNTU-20.04-64', version: '9.31.0.0' },
        { tag: 'RHEL7-64', version: '9.31.0.0' },
      ],
      env: { CS_VERSION: '9.30.0.0' },
    });
    writeFileSync(path.join(lab.repo, 'notes.txt'), 'not an installer');
    writeFileSync(path.join(lab.repo, 'Microsoft-ASR_UA_9.30.0.0_UBUNTU-20.04-64_GA_31Feb2019_release.tar.gz'), 'bad date');
    v930 = await buildLinuxInstaller(path.join(lab.repo, '..', 'v930.tar.gz'), '9.30.0.0');
    [ubuntu, centos] = await Promise.all([
      createLinuxGuest({ name: 'repo-ubuntu', os: 'ubuntu-20.04', behaviour: { passphrase: lab.daemon.passphrase } }),
      createLinuxGuest({ name: 'repo-centos', os: 'centos-7', behaviour: { passphrase: lab.daemon.passphrase } }),
    ]);
    account = await createLinuxAccount(lab.daemon, ubuntu.users.root);
  });

  after(async () => {
    await Promise.all([ubuntu?.destroy(), centos?.destroy()]);
    await lab?.stop();
  });

  it('lists installers with their SHA-256 and every file it cannot use, with the reason', async () => {
    const body = await until('the junk files to be listed', async () => { const b = await listing(); return b.rejected.length >= 2 ? b : undefined; });
    const ubuntuFiles = body.installers.filter((i) => i.osTag === 'UBUNTU-20.04-64').map((i) => i.version).sort();
    assert.deepEqual(ubuntuFiles, ['9.29.0.0', '9.31.0.0']);
    for (const i of body.installers) {
      const { createHash } = await import('node:crypto');
      assert.equal(i.sha256, createHash('sha256').update(readFileSync(path.join(lab.repo, i.file))).digest('hex'));
      assert.equal(i.platform, 'linux');
      assert.equal(i.releaseDate, '2019-10-22');
    }
    const reasons = Object.fromEntries(body.rejected.map((r) => [r.file, r.reason]));
    assert.ok(reasons['notes.txt'], 'a file that is not an installer is listed');
    assert.match(reasons['Microsoft-ASR_UA_9.30.0.0_UBUNTU-20.04-64_GA_31Feb2019_release.tar.gz'] ?? '', /date/i);
  });

  it('OS support: what each tag covers, manual placement, and what would be pushed under the CS_VERSION ceiling', async () => {
    const res = await lab.daemon.api<{ osSupport: OsSupport[] }>('GET', '/api/v1/repository/os-support', undefined, lab.daemon.tokens.portal);
    assert.equal(res.status, 200);
    const byTag = Object.fromEntries(res.body.osSupport.map((o) => [o.tag, o]));
    assert.equal(byTag['UBUNTU-20.04-64']?.present, true);
    assert.equal(byTag['UBUNTU-20.04-64']?.latestVersion, '9.31.0.0');
    assert.equal(byTag['UBUNTU-20.04-64']?.selectableVersion, '9.29.0.0');
    assert.equal(byTag['RHEL5-64']?.manualPlacement, true);
    assert.equal(byTag['RHEL5-64']?.present, false);
    assert.equal(byTag['RHEL7-64']?.manualPlacement, false);
    assert.ok(byTag['Windows']?.osNames.some((n) => /2016/.test(n)));
    assert.equal(res.body.osSupport.length, 19);
  });

  it('never pushes an agent newer than CS_VERSION: 9.29 is chosen over 9.31', async () => {
    const job = await push(lab.daemon, machineFor(ubuntu, account));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job.errors));
    assert.equal(job.agentVersion, '9.29.0.0');
  });

  it('only newer installers than CS_VERSION: 99018 saying which exist and the ceiling', async () => {
    const job = await push(lab.daemon, machineFor(centos, account));
    assert.equal(job.state, 'Failed');
    assert.equal(job.errors[0]?.code, 99018);
    assert.match(job.errors[0]?.message ?? '', /9\.31\.0\.0.*CS_VERSION 9\.30\.0\.0/);
  });

  it('a file copied in while the daemon runs is used without a restart; a half-written one never is', async () => {
    const final = path.join(lab.repo, installerFileName('9.30.0.0', 'UBUNTU-20.04-64'));
    // Write it in pieces, keeping it open in between: it must not be offered meanwhile.
    const bytes = readFileSync(v930);
    const fd = openSync(final, 'w');
    const half = Math.floor(bytes.length / 2);
    writeSync(fd, bytes, 0, half);
    const during = await until('the partial file to be reported', async () => {
      const b = await listing();
      return b.rejected.some((r) => r.file === path.basename(final)) ? b : undefined;
    });
    assert.ok(!during.installers.some((i) => i.file === path.basename(final)), 'a file being written is not offered');
    assert.match(during.rejected.find((r) => r.file === path.basename(final))?.reason ?? '', /cop(y|ied)|writ/i);
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(!(await listing()).installers.some((i) => i.file === path.basename(final)), 'still not offered while open');
    writeSync(fd, bytes, half, bytes.length - half);
    closeSync(fd);
    await until('the new installer to be offered', async () => (await listing()).installers.some((i) => i.file === path.basename(final) && i.version === '9.30.0.0'));
    // The machine has 9.29: the push upgrades it to 9.30 (the highest under the ceiling now).
    const job = await push(lab.daemon, machineFor(ubuntu, account, { machineId: 'vm-upgrade' }));
    assert.equal(job.state, 'Succeeded', JSON.stringify(job.errors));
    assert.equal(job.agentVersion, '9.30.0.0');
    assert.match(ubuntu.read('/usr/local/.vx_version'), /^VERSION=9\.30\.0\.0$/m);
  });

  it('a replaced file gets its new SHA-256; a removed file disappears; rescan answers at once', async () => {
    const name = installerFileName('9.31.0.0', 'RHEL7-64');
    const before = (await listing()).installers.find((i) => i.file === name);
    assert.ok(before);
    const other = await buildLinuxInstaller(path.join(lab.repo, '..', 'v931b.tar.gz'), '9.31.0.0', { padMiB: 1 });
    renameSync(other, path.join(lab.repo, name));
    const after = await until('the new hash', async () => {
      const i = (await listing()).installers.find((x) => x.file === name);
      return i && i.sha256 !== before.sha256 ? i : undefined;
    });
    assert.ok(after.size > before.size);
    rmSync(path.join(lab.repo, name));
    const rescan = await lab.daemon.api<Listing>('POST', '/api/v1/repository/rescan', undefined, lab.daemon.tokens.operator);
    assert.equal(rescan.status, 200);
    assert.ok(!rescan.body.installers.some((i) => i.file === name), 'gone right after a rescan');
    assert.equal((await lab.daemon.api('POST', '/api/v1/repository/rescan', undefined, lab.daemon.tokens.portal)).status, 403);
  });

  it('a manual-placement OS without its installer: 99001 naming the download, the file pattern and the process server', async () => {
    const job = await push(lab.daemon, machineFor(centos, account, { machineId: 'vm-rhel5', os: { family: 'linux', tag: 'RHEL5-64' } }));
    assert.equal(job.state, 'Failed');
    const err = job.errors[0];
    assert.equal(err?.code, 99001);
    assert.match(err?.message ?? '', /Microsoft-ASR_UA_<version>_RHEL5-64_GA_<ddMonyyyy>_release\.tar\.gz/);
    assert.match(err?.message ?? '', /place it in the repository of process server cs/);
    assert.match(err?.message ?? '', /downloaded from Microsoft/);
    assert.match(err?.message ?? '', /every scale-out process server/);
    assert.equal(err?.details?.manualPlacement, true);
  });

  it('each process server uses its own repository: a job routed to one that lacks the installer fails there', async () => {
    // A second process server (worker only) with an empty repository of its own.
    let ps2: TestDaemon | undefined;
    try {
      ps2 = await startTestDaemon({ redisUrl: lab.redis.url, dataDir: lab.daemon.dataDir, repositoryDir: path.join(lab.repo, '..', 'ps2-repo'), env: { ROLES: 'worker', PROCESS_SERVER_ID: 'ps2' } });
      const job = await push(lab.daemon, machineFor(ubuntu, account, { machineId: 'vm-on-ps2', processServerId: 'ps2' }));
      assert.equal(job.state, 'Failed');
      assert.equal(job.errors[0]?.code, 99001);
      assert.match(job.errors[0]?.message ?? '', /repository of process server ps2/);
      // Put the installer into ps2's repository: the same job, restarted, now succeeds there.
      copyFileSync(v930, path.join(lab.repo, '..', 'ps2-repo', installerFileName('9.30.0.0', 'UBUNTU-20.04-64')));
      await until('ps2 to offer the installer', async () => {
        const j = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('POST', `/api/v1/jobs/${job.id}/restart`);
        const { waitForJob } = await import('../lab/daemon.ts');
        const done = await waitForJob<{ state: string; processServerId: string }>(lab.daemon, j.body.jobs[0]?.id as string);
        return done.state === 'Succeeded' && done.processServerId === 'ps2' ? done : undefined;
      });
    } finally {
      await ps2?.stop();
    }
  });
});
