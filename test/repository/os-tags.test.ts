import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DOCUMENTED_LIMITS, OS_SUPPORT_SOURCE, OS_TAGS, osTagInfo, supportedOsList } from '../../src/repository/os-tags.ts';

describe('OS tag table', () => {
  it('has the 19 tags of asr-facts.md §5', () => {
    assert.deepEqual(OS_TAGS.map((t) => t.tag), [
      'Windows', 'RHEL5-64', 'RHEL6-64', 'RHEL7-64', 'RHEL8-64', 'SLES11-SP3-64', 'SLES11-SP4-64', 'SLES12-64',
      'SLES15-64', 'OL6-64', 'OL7-64', 'OL8-64', 'UBUNTU-14.04-64', 'UBUNTU-16.04-64', 'UBUNTU-18.04-64',
      'UBUNTU-20.04-64', 'DEBIAN7-64', 'DEBIAN8-64', 'DEBIAN9-64',
    ]);
  });

  it('the documented limits, with their source: OL6 6.4/6.5, SLES12 SP1-SP3, 2008 R2 SP1 (build 7601)', () => {
    assert.match(OS_SUPPORT_SOURCE, /documentation/);
    assert.deepEqual([...DOCUMENTED_LIMITS.oracleLinux6Minors], [4, 5]);
    assert.deepEqual([...DOCUMENTED_LIMITS.sles12ServicePacks], [1, 2, 3]);
    assert.equal(DOCUMENTED_LIMITS.windows2008R2Sp1Build, '7601');
    assert.deepEqual(osTagInfo('OL6-64')?.osNames, ['Oracle Linux 6.4, 6.5']);
    assert.deepEqual(osTagInfo('SLES12-64')?.osNames, ['SUSE Linux Enterprise Server 12 SP1, SP2, SP3']);
  });

  it('Windows Server 2019 and 2022 are kept as extensions with their minimum agent version', () => {
    assert.deepEqual(osTagInfo('Windows')?.extensions?.map((e) => [e.os, e.minAgentVersion]), [['Windows Server 2019', '9.22'], ['Windows Server 2022', '9.46']]);
    assert.match(supportedOsList('windows'), /Windows Server 2019 \(agent 9\.22 and later; an extension of the documented list\)/);
  });

  it('marks exactly RHEL5, SLES11-SP3 and DEBIAN7 as manual placement (from 9.36)', () => {
    assert.deepEqual(OS_TAGS.filter((t) => t.manualPlacement).map((t) => t.tag), ['RHEL5-64', 'SLES11-SP3-64', 'DEBIAN7-64']);
    for (const t of OS_TAGS.filter((x) => x.manualPlacement)) assert.equal(t.notShippedFrom, '9.36');
  });

  it('Windows is .exe, every Linux tag is .tar.gz', () => {
    for (const t of OS_TAGS) assert.equal(t.extension, t.platform === 'windows' ? 'exe' : 'tar.gz', t.tag);
    assert.deepEqual(OS_TAGS.filter((t) => t.platform === 'windows').map((t) => t.tag), ['Windows']);
  });

  for (const [input, canonical] of [['rhel7-64', 'RHEL7-64'], ['WINDOWS', 'Windows'], ['ubuntu-16.04-64', 'UBUNTU-16.04-64'], [' sles11-sp3-64 ', 'SLES11-SP3-64']] as const) {
    it(`osTagInfo("${input}") -> ${canonical}`, () => assert.equal(osTagInfo(input)?.tag, canonical));
  }

  for (const unknown of ['RHEL9-64', 'RHEL7', 'UBUNTU-22.04-64', '']) {
    it(`osTagInfo("${unknown}") is undefined`, () => assert.equal(osTagInfo(unknown), undefined));
  }

  it('the table is read-only', () => {
    assert.throws(() => (OS_TAGS as unknown as unknown[]).push({}));
    assert.throws(() => { (OS_TAGS[0] as { tag: string }).tag = 'x'; });
  });

  it('supportedOsList names every tag of a platform', () => {
    const linux = supportedOsList('linux');
    for (const t of OS_TAGS) assert.equal(linux.includes(`[${t.tag}]`), t.platform === 'linux', t.tag);
    assert.match(supportedOsList('windows'), /Windows Server 2012 R2/);
  });
});
