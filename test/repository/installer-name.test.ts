import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installerFilePattern, parseInstallerName, parseReleaseDate } from '../../src/repository/installer-name.ts';
import { OS_TAGS } from '../../src/repository/os-tags.ts';

describe('parseInstallerName', () => {
  const GOOD: Array<[string, { version: string; osTag: string; platform: string; releaseDate: string; extension: string }]> = [
    ['Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.exe', { version: '9.30.0.0', osTag: 'Windows', platform: 'windows', releaseDate: '2019-10-22', extension: 'exe' }],
    ['Microsoft-ASR_UA_9.30.0.0_UBUNTU-16.04-64_GA_22Oct2019_release.tar.gz', { version: '9.30.0.0', osTag: 'UBUNTU-16.04-64', platform: 'linux', releaseDate: '2019-10-22', extension: 'tar.gz' }],
    ['Microsoft-ASR_UA_9.36.0.0_RHEL5-64_GA_13Jul2020_Release.tar.gz', { version: '9.36.0.0', osTag: 'RHEL5-64', platform: 'linux', releaseDate: '2020-07-13', extension: 'tar.gz' }],
    ['microsoft-asr_ua_9.22.5109.1_rhel7-64_ga_01Feb2019_RELEASE.TAR.GZ', { version: '9.22.5109.1', osTag: 'RHEL7-64', platform: 'linux', releaseDate: '2019-02-01', extension: 'tar.gz' }],
    ['Microsoft-ASR_UA_9.40.0.0_SLES11-SP3-64_GA_29Feb2020_release.tar.gz', { version: '9.40.0.0', osTag: 'SLES11-SP3-64', platform: 'linux', releaseDate: '2020-02-29', extension: 'tar.gz' }],
    ['Microsoft-ASR_UA_9.9_Windows_GA_5jan2018_release.EXE', { version: '9.9', osTag: 'Windows', platform: 'windows', releaseDate: '2018-01-05', extension: 'exe' }],
  ];
  for (const [file, want] of GOOD) {
    it(`parses ${file}`, () => {
      const r = parseInstallerName(file);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      assert.deepEqual(r.value, { file, ...want });
    });
  }

  const BAD: Array<[string, RegExp]> = [
    ['README.txt', /does not follow Microsoft-ASR_UA_<version>_<OSTAG>_GA_<ddMonyyyy>_release/],
    ['Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019.exe', /does not follow/],
    ['Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.exe.part', /"\.exe\.part" is not an installer extension/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL9-64_GA_22Oct2019_release.tar.gz', /"RHEL9-64" is not a known OS tag \(known: Windows, RHEL5-64/],
    ['Microsoft-ASR_UA_9.30.0.0_CentOS7_GA_22Oct2019_release.tar.gz', /"CentOS7" is not a known OS tag/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_31Feb2019_release.tar.gz', /"31Feb2019" is not a valid release date/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_22Okt2019_release.tar.gz', /"22Okt2019" is not a valid release date/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_2019-10-22_release.tar.gz', /is not a valid release date/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_00Oct2019_release.tar.gz', /is not a valid release date/],
    ['Microsoft-ASR_UA_9.x_RHEL7-64_GA_22Oct2019_release.tar.gz', /"9\.x" is not a valid agent version/],
    ['Microsoft-ASR_UA__RHEL7-64_GA_22Oct2019_release.tar.gz', /"" is not a valid agent version/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_22Oct2019_release.exe', /RHEL7-64 installer must be a \.tar\.gz file, not \.exe/],
    ['Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.tar.gz', /Windows installer must be a \.exe file, not \.tar\.gz/],
    ['Microsoft-ASR_UA_9.30.0.0_RHEL7-64_GA_22Oct2019_release.zip', /"\.zip" is not an installer extension/],
  ];
  for (const [file, reason] of BAD) {
    it(`rejects ${file}`, () => {
      const r = parseInstallerName(file);
      assert.ok(!r.ok, 'expected a rejection');
      assert.match(r.reason, reason);
    });
  }

  it('parseReleaseDate handles leap years', () => {
    assert.equal(parseReleaseDate('29Feb2020'), '2020-02-29');
    assert.equal(parseReleaseDate('29Feb2019'), undefined);
    assert.equal(parseReleaseDate('31Dec2021'), '2021-12-31');
  });

  it('installerFilePattern gives the exact file name to place, per tag', () => {
    assert.equal(installerFilePattern('RHEL5-64'), 'Microsoft-ASR_UA_<version>_RHEL5-64_GA_<ddMonyyyy>_release.tar.gz');
    assert.equal(installerFilePattern('windows'), 'Microsoft-ASR_UA_<version>_Windows_GA_<ddMonyyyy>_release.exe');
    assert.throws(() => installerFilePattern('RHEL9-64'), /unknown OS tag/);
  });

  it('every tag\'s pattern, filled in, parses back to that tag', () => {
    for (const t of OS_TAGS) {
      const file = installerFilePattern(t.tag).replace('<version>', '9.50.0.0').replace('<ddMonyyyy>', '01Jan2023');
      const r = parseInstallerName(file);
      assert.ok(r.ok && r.value.osTag === t.tag && r.value.platform === t.platform, file);
    }
  });
});
