// selectInstaller and osSupport over in-memory snapshots (no files, no I/O): the highest version, never
// newer than CS_VERSION (nor PROCESS_SERVER_VERSION), release date and name as tie-breakers, and the errors
// 99001 / 99016 (CS_VERSION unset: the guard is always on) / 99018 / 99002.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { parseInstallerName } from '../../src/repository/installer-name.ts';
import { osSupport, selectInstaller, sortedInstallers } from '../../src/repository/select-installer.ts';
import { rejectedFiles, type FileStatus, type RepositorySnapshot } from '../../src/repository/snapshot.ts';
import { installerName } from './helpers.ts';

const DIR = '/srv/repository';

function parsed(file: string) {
  const p = parseInstallerName(file);
  assert.ok(p.ok, file);
  return p.value;
}

const offered = (file: string): FileStatus => ({ status: 'offered', installer: { ...parsed(file), path: `${DIR}/${file}`, size: 1, mtimeMs: 0, sha256: 'ab'.repeat(32) } });
const settling = (file: string): FileStatus => ({ status: 'settling', installer: parsed(file), since: 0, reason: 'open for writing' });

function snapshot(files: Record<string, FileStatus>): RepositorySnapshot {
  return { dir: DIR, processServerId: 'ps2', files: new Map(Object.entries(files)) };
}

function withVersions(tag: string, versions: string[]): Record<string, FileStatus> {
  return Object.fromEntries(versions.map((v) => [installerName(v, tag), offered(installerName(v, tag))]));
}

/** A ceiling above every version used here, where the test is about something else. */
const HIGH = { csVersion: '99.0' };
const at = (csVersion: string | undefined, processServerVersion?: string) => ({ csVersion, processServerVersion });

function errorOf(fn: () => unknown): PushError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PushError, String(e));
    return e;
  }
  assert.fail('expected a PushError');
}

describe('selectInstaller', () => {
  const versions = ['9.9.0.0', '9.22.0.0', '9.100.0.0', '9.23.0.0'];
  const table: Array<[cs: string, want: string]> = [
    ['9.23', '9.23.0.0'], ['9.23.0.0', '9.23.0.0'], ['9.22.5', '9.22.0.0'],
    ['9.99', '9.23.0.0'], ['9.100', '9.100.0.0'], ['10.0', '9.100.0.0'], ['9.9', '9.9.0.0'],
  ];
  for (const [cs, want] of table) {
    it(`versions ${versions.join(', ')} with CS_VERSION ${cs}: ${want}`, () => {
      assert.equal(selectInstaller(snapshot(withVersions('RHEL7-64', versions)), 'RHEL7-64', at(cs)).version, want);
    });
  }
  const psTable: Array<[cs: string, ps: string, want: string]> = [
    ['9.100', '9.23', '9.23.0.0'], ['9.23', '9.100', '9.23.0.0'], ['9.100', '9.100.0.0', '9.100.0.0'], ['10.0', '9.22.5', '9.22.0.0'],
  ];
  for (const [cs, ps, want] of psTable) {
    it(`CS_VERSION ${cs} and PROCESS_SERVER_VERSION ${ps}: the lower is the ceiling, ${want}`, () => {
      assert.equal(selectInstaller(snapshot(withVersions('RHEL7-64', versions)), 'RHEL7-64', at(cs, ps)).version, want);
    });
  }

  it('CS_VERSION names a release: installer 9.23.1.0 is not newer than CS 9.23 (nor than 9.23.5407.1)', () => {
    for (const cs of ['9.23', '9.23.5407.1']) assert.equal(selectInstaller(snapshot(withVersions('RHEL7-64', ['9.22.0.0', '9.23.1.0'])), 'RHEL7-64', { csVersion: cs }).version, '9.23.1.0');
  });

  const ties: Array<[what: string, files: string[], want: string]> = [
    ['same version: the newer release date', [installerName('9.30.0.0', 'OL7-64', '01Oct2019'), installerName('9.30.0.0', 'OL7-64', '05Nov2019')], installerName('9.30.0.0', 'OL7-64', '05Nov2019')],
    ['same version and date: the first name (locale order)', [installerName('9.30.0.0', 'OL7-64', '01Oct2019', 'Release'), installerName('9.30.0.0', 'OL7-64', '01Oct2019', 'release')], installerName('9.30.0.0', 'OL7-64', '01Oct2019', 'release')],
    ['9.30 and 9.30.0.1: the higher', [installerName('9.30', 'OL7-64'), installerName('9.30.0.1', 'OL7-64')], installerName('9.30.0.1', 'OL7-64')],
  ];
  for (const [what, files, want] of ties) {
    it(what, () => {
      const snap = snapshot(Object.fromEntries(files.map((f) => [f, offered(f)])));
      assert.equal(selectInstaller(snap, 'OL7-64', HIGH).file, want);
    });
  }

  it('matches the tag case-insensitively and ignores other tags, settling and rejected files', () => {
    const snap = snapshot({
      ...withVersions('RHEL7-64', ['9.30.0.0']),
      ...withVersions('RHEL8-64', ['9.40.0.0']),
      [installerName('9.35.0.0', 'RHEL7-64')]: settling(installerName('9.35.0.0', 'RHEL7-64')),
      'notes.txt': { status: 'rejected', reason: 'the name does not follow …' },
    });
    const i = selectInstaller(snap, 'rhel7-64', HIGH);
    assert.equal(i.osTag, 'RHEL7-64');
    assert.equal(i.version, '9.30.0.0');
  });

  it('returns a copy: changing it does not change the snapshot', () => {
    const snap = snapshot(withVersions('RHEL7-64', ['9.30.0.0']));
    selectInstaller(snap, 'RHEL7-64', HIGH).version = '1.0';
    assert.equal(selectInstaller(snap, 'RHEL7-64', HIGH).version, '9.30.0.0');
  });

  const failures: Array<[what: string, files: Record<string, FileStatus>, tag: string, cs: string | undefined, code: number, check: (e: PushError) => void, ps?: string]> = [
    ['unknown tag: 99002 listing the known tags', {}, 'RHEL9-64', undefined, Codes.UnsupportedOs,
      (e) => assert.match(e.message, /"RHEL9-64" is not a known OS tag\. Known tags: Windows, RHEL5-64/)],
    ['CS_VERSION unset: 99016 naming CS_VERSION, even with an installer present', withVersions('RHEL7-64', ['9.30.0.0']), 'RHEL7-64', undefined, Codes.CsSettingsMissing,
      (e) => { assert.equal(e.details.missing, 'CS_VERSION'); assert.match(e.message, /CS_VERSION is not set, so no RHEL7-64 installer can be chosen/); }],
    ['only newer than PROCESS_SERVER_VERSION: 99018 naming both versions', withVersions('RHEL7-64', ['9.30.0.0']), 'RHEL7-64', '9.31', Codes.NewerThanCs,
      (e) => {
        assert.match(e.message, /newer than the process server itself \(versions 9\.30\.0\.0; the ceiling is PROCESS_SERVER_VERSION 9\.29, under CS_VERSION 9\.31\)/);
        assert.equal(e.details.processServerVersion, '9.29');
        assert.equal(e.details.csVersion, '9.31');
      }, '9.29'],
    ['only newer than CS_VERSION: 99018 with the versions, highest first', withVersions('UBUNTU-18.04-64', ['9.32.0.0', '9.33.0.0']), 'UBUNTU-18.04-64', '9.30', Codes.NewerThanCs,
      (e) => { assert.deepEqual(e.details.availableVersions, ['9.33.0.0', '9.32.0.0']); assert.equal(e.details.csVersion, '9.30'); }],
    ['none for the tag: 99001 naming the pattern, process server and folder', withVersions('RHEL7-64', ['9.30.0.0']), 'RHEL6-64', '9.30', Codes.InstallerMissing,
      (e) => {
        assert.equal(e.message, `No installer for RHEL6-64 in the repository of process server ps2: download Microsoft-ASR_UA_<version>_RHEL6-64_GA_<ddMonyyyy>_release.tar.gz and place it in the repository of process server ps2 (${DIR}). Use version 9.30 or older (the configuration server's version).`);
        assert.equal(e.details.stillCopying, undefined);
        assert.equal(e.toJobError().retryable, false);
      }],
    ['none with a ceiling: 99001 says which versions to use', {}, 'RHEL6-64', '9.40', Codes.InstallerMissing,
      (e) => { assert.match(e.message, /Use version 9\.40 or older/); assert.equal(e.details.csVersion, '9.40'); }],
    ['one still being copied: 99001 names it and is retryable',
      { [installerName('9.30.0.0', 'DEBIAN9-64')]: settling(installerName('9.30.0.0', 'DEBIAN9-64')) }, 'DEBIAN9-64', '9.30', Codes.InstallerMissing,
      (e) => {
        assert.deepEqual(e.details.stillCopying, [installerName('9.30.0.0', 'DEBIAN9-64')]);
        assert.match(e.message, /is still being copied into the repository; restart the job when the copy is complete/);
        assert.equal(e.toJobError().retryable, true);
      }],
  ];
  for (const [what, files, tag, cs, code, check, ps] of failures) {
    it(what, () => {
      const e = errorOf(() => selectInstaller(snapshot(files), tag, at(cs, ps)));
      assert.equal(e.code, code);
      check(e);
    });
  }
});

describe('snapshot views', () => {
  it('sortedInstallers: by tag, then highest version first', () => {
    const snap = snapshot({ ...withVersions('RHEL7-64', ['9.9.0.0', '9.30.0.0']), ...withVersions('DEBIAN9-64', ['9.30.0.0']) });
    assert.deepEqual(sortedInstallers(snap).map((i) => `${i.osTag} ${i.version}`), ['DEBIAN9-64 9.30.0.0', 'RHEL7-64 9.30.0.0', 'RHEL7-64 9.9.0.0']);
  });

  it('rejectedFiles: rejected and settling files with their reasons, by name (locale order)', () => {
    const file = installerName('9.30.0.0', 'DEBIAN9-64');
    const snap = snapshot({ 'b.txt': { status: 'rejected', reason: 'no' }, [file]: settling(file), ...withVersions('RHEL7-64', ['9.30.0.0']) });
    assert.deepEqual(rejectedFiles(snap), [{ file: 'b.txt', reason: 'no' }, { file, reason: 'still being copied (open for writing)' }]);
  });

  it('osSupport without CS_VERSION: nothing is selectable', () => {
    const s = new Map(osSupport(snapshot(withVersions('RHEL7-64', ['9.28.0.0'])), at(undefined)).map((e) => [e.tag, e]));
    assert.equal(s.get('RHEL7-64')?.present, true);
    assert.equal(s.get('RHEL7-64')?.selectableVersion, undefined);
  });

  it('osSupport: presence, latest and selectable versions per tag', () => {
    const s = new Map(osSupport(snapshot(withVersions('RHEL7-64', ['9.28.0.0', '9.31.0.0'])), at('9.30')).map((e) => [e.tag, e]));
    assert.equal(s.get('RHEL7-64')?.latestVersion, '9.31.0.0');
    assert.equal(s.get('RHEL7-64')?.selectableVersion, '9.28.0.0');
    assert.deepEqual(s.get('RHEL7-64')?.versions, ['9.31.0.0', '9.28.0.0']);
    assert.equal(s.get('RHEL5-64')?.present, false);
  });
});
