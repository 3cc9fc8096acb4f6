import assert from 'node:assert/strict';
import { chmod, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { InstallerRepository } from '../../src/repository/repository.ts';
import { installerName, memoryLogger, put, sha256, tempRepo } from './helpers.ts';

async function pushErrorOf(p: Promise<unknown>): Promise<PushError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PushError, `expected a PushError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected select() to throw');
}

describe('InstallerRepository: selection', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempRepo()));
  afterEach(() => cleanup());

  // CS_VERSION is required to select (the guard is always on): a ceiling above every version here by default.
  const repo = (opts: { csVersion?: string; processServerVersion?: string; processServerId?: string } = {}) =>
    new InstallerRepository({ dir, processServerId: opts.processServerId ?? 'ps2', settleMs: 0, csVersion: opts.csVersion ?? '99.0', processServerVersion: opts.processServerVersion });

  async function putVersions(tag: string, versions: string[]): Promise<void> {
    for (const v of versions) await put(dir, installerName(v, tag));
  }

  it('picks the highest version numerically (9.100 over 9.23 over 9.22 over 9.9)', async () => {
    await putVersions('RHEL7-64', ['9.9.0.0', '9.22.0.0', '9.100.0.0', '9.23.0.0']);
    const r = repo();
    await r.rescan();
    assert.equal((await r.select('RHEL7-64')).version, '9.100.0.0');
    assert.deepEqual(r.installers().map((i) => i.version), ['9.100.0.0', '9.23.0.0', '9.22.0.0', '9.9.0.0']);
  });

  for (const [cs, want] of [['9.23', '9.23.0.0'], ['9.23.0.0', '9.23.0.0'], ['9.22.5', '9.22.0.0'], ['9.99', '9.23.0.0'], ['9.100', '9.100.0.0'], ['10.0', '9.100.0.0']] as const) {
    it(`CS_VERSION ${cs} is the ceiling: selects ${want}`, async () => {
      await putVersions('RHEL7-64', ['9.9.0.0', '9.22.0.0', '9.100.0.0', '9.23.0.0']);
      const r = repo({ csVersion: cs });
      await r.rescan();
      assert.equal((await r.select('RHEL7-64')).version, want);
    });
  }

  it('only installers newer than CS_VERSION: 99018 naming the versions and the ceiling', async () => {
    await putVersions('UBUNTU-18.04-64', ['9.32.0.0', '9.33.0.0']);
    const r = repo({ csVersion: '9.30' });
    await r.rescan();
    const e = await pushErrorOf(r.select('UBUNTU-18.04-64'));
    assert.equal(e.code, Codes.NewerThanCs);
    assert.match(e.message, /only UBUNTU-18\.04-64 installers newer than the configuration server \(versions 9\.33\.0\.0, 9\.32\.0\.0; the ceiling is CS_VERSION 9\.30\)/);
    assert.match(e.message, /process server ps2/);
    assert.deepEqual(e.details.availableVersions, ['9.33.0.0', '9.32.0.0']);
    assert.equal(e.details.csVersion, '9.30');
    assert.equal(e.toJobError().retryable, false);
  });

  it('missing installer: 99001 naming the file pattern, the process server and the folder', async () => {
    await putVersions('RHEL7-64', ['9.30.0.0']);
    const r = repo();
    await r.rescan();
    const e = await pushErrorOf(r.select('rhel6-64'));
    assert.equal(e.code, Codes.InstallerMissing);
    assert.equal(e.message, `No installer for RHEL6-64 in the repository of process server ps2: download Microsoft-ASR_UA_<version>_RHEL6-64_GA_<ddMonyyyy>_release.tar.gz and place it in the repository of process server ps2 (${dir}). Use version 99.0 or older (the configuration server's version).`);
    assert.equal(e.details.osTag, 'RHEL6-64');
    assert.equal(e.details.filePattern, 'Microsoft-ASR_UA_<version>_RHEL6-64_GA_<ddMonyyyy>_release.tar.gz');
    assert.equal(e.details.processServerId, 'ps2');
    assert.equal(e.details.repositoryDir, dir);
    assert.equal(e.details.manualPlacement, false);
    assert.match(String(e.details.download), /configuration server's repository/);
    assert.doesNotMatch(e.message, /9\.36|every scale-out/);
  });

  for (const tag of ['RHEL5-64', 'SLES11-SP3-64', 'DEBIAN7-64']) {
    it(`missing manual-placement installer ${tag}: says download from Microsoft, not shipped from 9.36, CS and every scale-out PS`, async () => {
      const r = repo({ csVersion: '9.40' });
      await r.rescan();
      const e = await pushErrorOf(r.select(tag));
      assert.equal(e.code, Codes.InstallerMissing);
      const ext = 'tar.gz';
      assert.ok(e.message.startsWith(`No installer for ${tag} in the repository of process server ps2: download Microsoft-ASR_UA_<version>_${tag}_GA_<ddMonyyyy>_release.${ext} and place it in the repository of process server ps2 (${dir}).`), e.message);
      assert.match(e.message, /Use version 9\.40 or older/);
      assert.match(e.message, /not shipped with the configuration server from agent 9\.36/);
      assert.match(e.message, /downloaded from Microsoft/);
      assert.match(e.message, /repository of the configuration server and of every scale-out process server/);
      assert.equal(e.details.manualPlacement, true);
      assert.match(String(e.details.download), /from Microsoft/);
      const job = e.toJobError();
      assert.equal(job.code, 99001);
      assert.equal(job.message, e.message);
      assert.equal(job.retryable, false);
    });
  }

  it('unknown tag: 99002 listing the known tags', async () => {
    const r = repo();
    const e = await pushErrorOf(r.select('RHEL9-64'));
    assert.equal(e.code, Codes.UnsupportedOs);
    assert.match(e.message, /"RHEL9-64" is not a known OS tag\. Known tags: Windows, RHEL5-64/);
  });

  it('is case-insensitive (release/Release, tag spelling) and returns the canonical tag', async () => {
    await put(dir, 'Microsoft-ASR_UA_9.30.0.0_rhel7-64_GA_22Oct2019_Release.tar.gz');
    const r = repo();
    await r.rescan();
    const i = await r.select('Rhel7-64');
    assert.equal(i.osTag, 'RHEL7-64');
    assert.equal(i.file, 'Microsoft-ASR_UA_9.30.0.0_rhel7-64_GA_22Oct2019_Release.tar.gz');
  });

  it('same version twice: the newer release date wins', async () => {
    await put(dir, installerName('9.30.0.0', 'OL7-64', '01Oct2019'));
    await put(dir, installerName('9.30.0.0', 'OL7-64', '05Nov2019', 'Release'));
    const r = repo();
    await r.rescan();
    assert.equal((await r.select('OL7-64')).releaseDate, '2019-11-05');
  });

  it('lists the installers with size and SHA-256, and rejects non-installers with the reason', async () => {
    const winSha = await put(dir, installerName('9.30.0.0', 'Windows'), Buffer.alloc(4096, 7));
    await put(dir, 'README.md', '# notes');
    await put(dir, '.hidden-partial', 'x');
    await put(dir, 'notes.txt', 'x');
    await put(dir, 'Microsoft-ASR_UA_9.30.0.0_RHEL9-64_GA_22Oct2019_release.tar.gz');
    await put(dir, 'Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.tar.gz');
    await put(dir, 'Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_31Sep2019_release.tar.gz');
    await mkdir(join(dir, 'old'));
    const r = repo();
    await r.rescan();
    const [win, ...others] = r.installers();
    assert.equal(others.length, 0);
    assert.ok(win);
    assert.equal(win.sha256, winSha);
    assert.equal(win.size, 4096);
    assert.equal(win.platform, 'windows');
    assert.equal(win.extension, 'exe');
    assert.equal(win.path, join(dir, installerName('9.30.0.0', 'Windows')));
    const rejected = new Map(r.rejected().map((x) => [x.file, x.reason]));
    assert.deepEqual([...rejected.keys()].sort(), [
      'Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_31Sep2019_release.tar.gz',
      'Microsoft-ASR_UA_9.30.0.0_RHEL9-64_GA_22Oct2019_release.tar.gz',
      'Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.tar.gz',
      'notes.txt',
      'old',
    ]);
    assert.match(rejected.get('notes.txt') ?? '', /does not follow/);
    assert.match(rejected.get('old') ?? '', /is a folder/);
    assert.match(rejected.get('Microsoft-ASR_UA_9.30.0.0_RHEL9-64_GA_22Oct2019_release.tar.gz') ?? '', /not a known OS tag/);
    assert.match(rejected.get('Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.tar.gz') ?? '', /must be a \.exe file/);
    assert.match(rejected.get('Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_31Sep2019_release.tar.gz') ?? '', /not a valid release date/);
  });

  it('logs added and rejected files', async () => {
    const logger = memoryLogger();
    await put(dir, installerName('9.30.0.0', 'RHEL8-64'));
    await put(dir, 'junk.bin');
    const r = new InstallerRepository({ dir, processServerId: 'cs', settleMs: 0, logger });
    await r.rescan();
    await r.rescan();
    const added = logger.lines.filter((l) => l.msg === 'installer added to the repository');
    assert.equal(added.length, 1, 'logged once, not on every scan');
    assert.equal(added[0]?.fields.file, installerName('9.30.0.0', 'RHEL8-64'));
    const rejected = logger.lines.filter((l) => l.level === 'warn' && l.msg === 'file in the installer repository rejected');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.fields.file, 'junk.bin');
    assert.match(String(rejected[0]?.fields.reason), /does not follow/);
  });

  it('computes each SHA-256 once and caches it while size and mtime are unchanged', async () => {
    const sha = await put(dir, installerName('9.30.0.0', 'SLES12-64'), 'abc');
    const r = repo();
    await r.rescan();
    await r.rescan();
    await r.select('SLES12-64');
    assert.equal(r.stats().hashesComputed, 1);
    assert.equal(r.installers()[0]?.sha256, sha);
    const sha2 = await put(dir, installerName('9.30.0.0', 'SLES12-64'), 'abcd');
    await r.rescan();
    assert.equal(r.stats().hashesComputed, 2);
    assert.equal(r.installers()[0]?.sha256, sha2);
    assert.equal(sha2, sha256('abcd'));
  });

  it('osSupport(): every tag, with presence, latest and selectable versions', async () => {
    await putVersions('RHEL7-64', ['9.28.0.0', '9.31.0.0']);
    await putVersions('DEBIAN7-64', ['9.40.0.0']);
    const r = repo({ csVersion: '9.30' });
    await r.rescan();
    const s = new Map(r.osSupport().map((e) => [e.tag, e]));
    assert.equal(s.size, 19);
    assert.deepEqual(s.get('RHEL7-64'), {
      tag: 'RHEL7-64', platform: 'linux', osNames: ['Red Hat Enterprise Linux 7', 'CentOS 7'], manualPlacement: false,
      present: true, latestVersion: '9.31.0.0', selectableVersion: '9.28.0.0', versions: ['9.31.0.0', '9.28.0.0'],
    });
    assert.equal(s.get('DEBIAN7-64')?.present, true);
    assert.equal(s.get('DEBIAN7-64')?.manualPlacement, true);
    assert.equal(s.get('DEBIAN7-64')?.selectableVersion, undefined);
    assert.equal(s.get('RHEL5-64')?.present, false);
    assert.equal(s.get('RHEL5-64')?.latestVersion, undefined);
  });

  it('each process server reads its own folder: a job routed to ps2 fails there, naming ps2', async () => {
    const other = await tempRepo();
    try {
      await put(dir, installerName('9.30.0.0', 'RHEL7-64'));
      const cs = new InstallerRepository({ dir, processServerId: 'cs', settleMs: 0, csVersion: '9.30' });
      const ps2 = new InstallerRepository({ dir: other.dir, processServerId: 'ps2', settleMs: 0, csVersion: '9.30' });
      await cs.rescan();
      await ps2.rescan();
      assert.equal((await cs.select('RHEL7-64')).version, '9.30.0.0');
      const e = await pushErrorOf(ps2.select('RHEL7-64'));
      assert.match(e.message, new RegExp(`place it in the repository of process server ps2 \\(${other.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    } finally {
      await other.cleanup();
    }
  });

  it('select() rescans when the cached installer vanished (missed watch event)', async () => {
    await putVersions('RHEL7-64', ['9.30.0.0', '9.31.0.0']);
    const r = repo();
    await r.rescan();
    await unlink(join(dir, installerName('9.31.0.0', 'RHEL7-64')));
    assert.equal((await r.select('RHEL7-64')).version, '9.30.0.0');
  });

  it('select() finds a file added since the last scan without a running watcher', async () => {
    const r = repo();
    await r.rescan();
    await put(dir, installerName('9.30.0.0', 'UBUNTU-20.04-64'));
    assert.equal((await r.select('UBUNTU-20.04-64')).version, '9.30.0.0');
  });

  it('readable(): true for the folder, false when missing or not a folder', async () => {
    assert.equal(await repo().readable(), true);
    assert.equal(await new InstallerRepository({ dir: join(dir, 'nope'), processServerId: 'cs' }).readable(), false);
    await writeFile(join(dir, 'file'), 'x');
    assert.equal(await new InstallerRepository({ dir: join(dir, 'file'), processServerId: 'cs' }).readable(), false);
  });

  it('rejects an invalid CS_VERSION at construction; an empty one is unset, and then nothing is selected (99016)', async () => {
    assert.throws(() => new InstallerRepository({ dir, processServerId: 'cs', csVersion: '9.x' }), /CS_VERSION "9\.x" is not a version/);
    assert.throws(() => new InstallerRepository({ dir, processServerId: 'cs', csVersion: '9.30', processServerVersion: 'x' }), /PROCESS_SERVER_VERSION "x" is not a version/);
    const unset = new InstallerRepository({ dir, processServerId: 'cs', csVersion: '', settleMs: 0 });
    assert.equal(unset.csVersion, undefined);
    await putVersions('RHEL7-64', ['9.30.0.0']);
    await unset.rescan();
    const e = await unset.select('RHEL7-64').then(() => assert.fail('selected'), (err: PushError) => err);
    assert.equal(e.code, Codes.CsSettingsMissing);
    assert.equal(e.details.missing, 'CS_VERSION');
    assert.equal(unset.eligible('9.30.0.0'), false);
  });

  it('PROCESS_SERVER_VERSION lower than CS_VERSION: installers above it are not used there, eligible says so', async () => {
    await putVersions('RHEL7-64', ['9.29.0.0', '9.30.0.0']);
    const r = repo({ csVersion: '9.30', processServerVersion: '9.29' });
    await r.rescan();
    assert.equal((await r.select('RHEL7-64')).version, '9.29.0.0');
    assert.deepEqual([r.eligible('9.29.0.0'), r.eligible('9.30.0.0')], [true, false]);
  });
});

describe('InstallerRepository: unreadable files', () => {
  it('lists a file it cannot read with the reason', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
    const { dir, cleanup } = await tempRepo();
    try {
      const file = installerName('9.30.0.0', 'RHEL7-64');
      await put(dir, file);
      await chmod(join(dir, file), 0o000);
      const r = new InstallerRepository({ dir, processServerId: 'cs', settleMs: 0 });
      await r.rescan();
      assert.deepEqual(r.installers(), []);
      assert.match(r.rejected().find((x) => x.file === file)?.reason ?? '', /cannot be read \(EACCES\)/);
    } finally {
      await cleanup();
    }
  });
});
