import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { detectLinuxOs, LINUX_RELEASE_FILES } from '../../src/repository/os-mapping.ts';

const OS_RELEASE = (id: string, versionId: string, pretty: string) =>
  `NAME="${pretty.split(' ')[0]}"\nID=${id}\nVERSION_ID="${versionId}"\nPRETTY_NAME="${pretty}"\n`;

type Files = Record<string, string>;
const CASES: Array<[string, Files, string | RegExp]> = [
  // Oracle Linux carries a redhat-release that says Red Hat: oracle-release must win.
  ['Oracle Linux 7 (oracle-release first)', {
    '/etc/oracle-release': 'Oracle Linux Server release 7.9\n',
    '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 7.9 (Maipo)\n',
    '/etc/os-release': OS_RELEASE('"ol"', '7.9', 'Oracle Linux Server 7.9'),
  }, 'OL7-64'],
  ['Oracle Linux 6.5', {
    '/etc/oracle-release': 'Oracle Linux Server release 6.5\n',
    '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 6.5 (Santiago)\n',
  }, 'OL6-64'],
  ['Oracle Linux 8', { '/etc/oracle-release': 'Oracle Linux Server release 8.4\n', '/etc/redhat-release': 'Red Hat Enterprise Linux release 8.4 (Ootpa)\n' }, 'OL8-64'],
  ['RHEL 7', { '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 7.9 (Maipo)\n', '/etc/os-release': OS_RELEASE('"rhel"', '7.9', 'Red Hat Enterprise Linux Server 7.9 (Maipo)') }, 'RHEL7-64'],
  ['RHEL 6', { '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 6.10 (Santiago)\n' }, 'RHEL6-64'],
  ['RHEL 5 (no os-release)', { '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 5.11 (Tikanga)\n' }, 'RHEL5-64'],
  ['CentOS 7', { '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)\n', '/etc/os-release': OS_RELEASE('"centos"', '7', 'CentOS Linux 7 (Core)') }, 'RHEL7-64'],
  ['CentOS 6', { '/etc/redhat-release': 'CentOS release 6.10 (Final)\n' }, 'RHEL6-64'],
  ['CentOS 8', { '/etc/redhat-release': 'CentOS Linux release 8.5.2111\n' }, 'RHEL8-64'],
  ['CentOS Stream 8: unsupported', { '/etc/redhat-release': 'CentOS Stream release 8\n', '/etc/os-release': OS_RELEASE('"centos"', '8', 'CentOS Stream 8') }, /CentOS Stream/],
  ['RHEL 9: unsupported', { '/etc/redhat-release': 'Red Hat Enterprise Linux release 9.0 (Plow)\n' }, /Red Hat Enterprise Linux 9 is not supported/],
  ['Rocky 8 (redhat-release unknown, os-release says rocky): unsupported', {
    '/etc/redhat-release': 'Rocky Linux release 8.5 (Green Obsidian)\n', '/etc/os-release': OS_RELEASE('"rocky"', '8.5', 'Rocky Linux 8.5 (Green Obsidian)'),
  }, /Rocky Linux/],
  ['SLES 11 SP3', { '/etc/SuSE-release': 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 3\n' }, 'SLES11-SP3-64'],
  ['SLES 11 SP4', { '/etc/SuSE-release': 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n', '/etc/os-release': OS_RELEASE('"sles"', '11.4', 'SUSE Linux Enterprise Server 11 SP4') }, 'SLES11-SP4-64'],
  ['SLES 11 SP2: unsupported', { '/etc/SuSE-release': 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 2\n' }, /SP2 is not supported/],
  ['SLES 12 SP3 (SuSE-release)', { '/etc/SuSE-release': 'SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n' }, 'SLES12-64'],
  ['SLES 12 GA (PATCHLEVEL = 0): unsupported', { '/etc/SuSE-release': 'SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 0\n' }, /no service pack/],
  ['SLES 15 SP2 (os-release only)', { '/etc/os-release': OS_RELEASE('"sles"', '15.2', 'SUSE Linux Enterprise Server 15 SP2') }, 'SLES15-64'],
  ['SLES 12 SP5 (os-release only): unsupported (documented: SP1 to SP3)', { '/etc/os-release': OS_RELEASE('"sles"', '12.5', 'SUSE Linux Enterprise Server 12 SP5') }, /12 SP5 is not supported/],
  ['SLES 12 SP2 (os-release only)', { '/etc/os-release': OS_RELEASE('"sles"', '12.2', 'SUSE Linux Enterprise Server 12 SP2') }, 'SLES12-64'],
  ['Oracle Linux 6.10: unsupported (documented: 6.4 and 6.5)', { '/etc/oracle-release': 'Oracle Linux Server release 6.10\n' }, /Oracle Linux 6\.10 is not supported/],
  ['openSUSE: unsupported', { '/etc/SuSE-release': 'openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n' }, /openSUSE/],
  ['Ubuntu 14.04 (lsb-release)', { '/etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_CODENAME=trusty\nDISTRIB_DESCRIPTION="Ubuntu 14.04.6 LTS"\n', '/etc/debian_version': 'jessie/sid\n' }, 'UBUNTU-14.04-64'],
  ['Ubuntu 20.04 (lsb-release and os-release)', { '/etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\n', '/etc/os-release': OS_RELEASE('ubuntu', '20.04', 'Ubuntu 20.04.3 LTS') }, 'UBUNTU-20.04-64'],
  ['Ubuntu 18.04 (os-release only)', { '/etc/os-release': OS_RELEASE('ubuntu', '18.04', 'Ubuntu 18.04.6 LTS') }, 'UBUNTU-18.04-64'],
  ['Ubuntu 22.04: unsupported', { '/etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n' }, /Ubuntu 22\.04 is not supported/],
  ['Linux Mint (lsb-release unknown) falls through to os-release: unsupported', {
    '/etc/lsb-release': 'DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=20\n', '/etc/os-release': OS_RELEASE('linuxmint', '20', 'Linux Mint 20'),
  }, /Linux Mint/],
  ['Debian 9 (os-release)', { '/etc/os-release': OS_RELEASE('debian', '9', 'Debian GNU/Linux 9 (stretch)'), '/etc/debian_version': '9.13\n' }, 'DEBIAN9-64'],
  ['Debian 8 (os-release)', { '/etc/os-release': OS_RELEASE('debian', '8', 'Debian GNU/Linux 8 (jessie)') }, 'DEBIAN8-64'],
  ['Debian 7 (debian_version only)', { '/etc/debian_version': '7.11\n' }, 'DEBIAN7-64'],
  ['Debian 10: unsupported', { '/etc/os-release': OS_RELEASE('debian', '10', 'Debian GNU/Linux 10 (buster)') }, /Debian 10 is not supported/],
  ['empty files are absent', { '/etc/oracle-release': '', '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)\n' }, 'RHEL7-64'],
];

describe('detectLinuxOs', () => {
  it('reads the release files in Microsoft\'s order', () => {
    assert.deepEqual(LINUX_RELEASE_FILES.slice(0, 5), ['/etc/oracle-release', '/etc/redhat-release', '/etc/SuSE-release', '/etc/lsb-release', '/etc/os-release']);
    assert.ok(LINUX_RELEASE_FILES.includes('/etc/debian_version'));
  });

  for (const [label, files, expect] of CASES) {
    it(label, () => {
      const r = detectLinuxOs(files, 'x86_64');
      if (typeof expect === 'string') {
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assert.equal(r.tag, expect);
        assert.match(r.description, /\(from \/etc\//);
      } else {
        assert.ok(!r.ok, r.ok ? `got ${r.tag}` : '');
        assert.equal(r.unsupported, true);
        assert.equal(r.code, Codes.UnsupportedOs);
        assert.match(r.reason, expect);
        assert.match(r.reason, /Supported operating systems \(64-bit only\):.*\[RHEL7-64\]/);
      }
    });
  }

  for (const arch of ['i686', 'i386', 'aarch64', 'ppc64le', '']) {
    it(`uname -m "${arch}" is unsupported whatever the distro`, () => {
      const r = detectLinuxOs({ '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)' }, arch);
      assert.ok(!r.ok);
      assert.equal(r.unsupported, true);
      assert.equal(r.code, Codes.UnsupportedArch);
      assert.match(r.reason, /x86_64/);
    });
  }

  it('accepts uname output with a trailing newline', () => {
    const r = detectLinuxOs({ '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)' }, 'x86_64\n');
    assert.ok(r.ok);
  });

  it('no release file at all: not detected (not "unsupported")', () => {
    const r = detectLinuxOs({}, 'x86_64');
    assert.ok(!r.ok);
    assert.equal(r.unsupported, false);
    assert.equal(r.code, Codes.OsNotDetected);
    assert.match(r.reason, /\/etc\/os-release/);
  });
});
