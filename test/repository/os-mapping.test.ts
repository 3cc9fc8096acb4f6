import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { resolveOsName } from '../../src/repository/os-mapping.ts';

type Family = 'windows' | 'linux';
/** Expected: a tag (and Windows version), or a rejection: 'unsupported' (listing supported OSes), 'ambiguous' or 'mismatch'. */
type Expect =
  | { tag: string; win?: string }
  | { reject: 'unsupported' | 'ambiguous' | 'mismatch'; says?: RegExp };

const CASES: Array<[Family, string, Expect]> = [
  // ---- vCenter guest OS names ----
  ['linux', 'CentOS 7 (64-bit)', { tag: 'RHEL7-64' }],
  ['linux', 'CentOS 6 (64-bit)', { tag: 'RHEL6-64' }],
  ['linux', 'CentOS 8 (64-bit)', { tag: 'RHEL8-64' }],
  ['linux', 'CentOS 4/5 (64-bit)', { reject: 'ambiguous', says: /CentOS 4, CentOS 5/ }],
  ['linux', 'CentOS 4/5/6 (64-bit)', { reject: 'ambiguous', says: /several versions/ }],
  ['linux', 'CentOS 4/5/6 (32-bit)', { reject: 'unsupported', says: /32-bit/ }],
  ['linux', 'Red Hat Enterprise Linux 5 (64-bit)', { tag: 'RHEL5-64' }],
  ['linux', 'Red Hat Enterprise Linux 6 (64-bit)', { tag: 'RHEL6-64' }],
  ['linux', 'Red Hat Enterprise Linux 7 (64-bit)', { tag: 'RHEL7-64' }],
  ['linux', 'Red Hat Enterprise Linux 8 (64-bit)', { tag: 'RHEL8-64' }],
  ['linux', 'Red Hat Enterprise Linux 9 (64-bit)', { reject: 'unsupported', says: /Red Hat Enterprise Linux 9 is not supported \(5 to 8 are\)/ }],
  ['linux', 'Red Hat Enterprise Linux 6 (32-bit)', { reject: 'unsupported', says: /32-bit/ }],
  // Documented: Oracle Linux 6.4 and 6.5 only, so a bare "6" does not say enough.
  ['linux', 'Oracle Linux 6 (64-bit)', { reject: 'ambiguous', says: /only Oracle Linux 6\.4 and 6\.5 are supported/ }],
  ['linux', 'Oracle Linux 7 (64-bit)', { tag: 'OL7-64' }],
  ['linux', 'Oracle Linux 8 (64-bit)', { tag: 'OL8-64' }],
  ['linux', 'Oracle Linux 4/5 (64-bit)', { reject: 'unsupported', says: /none of Oracle Linux 4, 5/ }],
  ['linux', 'SUSE Linux Enterprise 11 (64-bit)', { reject: 'ambiguous', says: /SP3 \(SLES11-SP3-64\) and SP4 \(SLES11-SP4-64\)/ }],
  // Documented: SLES 12 SP1, SP2 and SP3 only, so "12" without a service pack does not say enough.
  ['linux', 'SUSE Linux Enterprise 12 (64-bit)', { reject: 'ambiguous', says: /only SP1, SP2 and SP3 are supported/ }],
  ['linux', 'SUSE Linux Enterprise 15 (64-bit)', { tag: 'SLES15-64' }],
  ['linux', 'Ubuntu Linux (64-bit)', { reject: 'ambiguous', says: /which Ubuntu version/ }],
  ['linux', 'Ubuntu Linux (32-bit)', { reject: 'unsupported', says: /32-bit/ }],
  ['linux', 'Debian GNU/Linux 7 (64-bit)', { tag: 'DEBIAN7-64' }],
  ['linux', 'Debian GNU/Linux 8 (64-bit)', { tag: 'DEBIAN8-64' }],
  ['linux', 'Debian GNU/Linux 9 (64-bit)', { tag: 'DEBIAN9-64' }],
  ['linux', 'Debian GNU/Linux 10 (64-bit)', { reject: 'unsupported', says: /Debian 10 is not supported/ }],
  ['linux', 'Other 4.x or later Linux (64-bit)', { reject: 'ambiguous', says: /which Linux distribution/ }],
  ['linux', 'Other Linux (64-bit)', { reject: 'ambiguous' }],
  ['linux', 'FreeBSD 12 (64-bit)', { reject: 'unsupported' }],
  ['windows', 'Microsoft Windows Server 2016 (64-bit)', { tag: 'Windows', win: '2016' }],
  ['windows', 'Microsoft Windows Server 2019 (64-bit)', { tag: 'Windows', win: '2019' }],
  ['windows', 'Microsoft Windows Server 2022 (64-bit)', { tag: 'Windows', win: '2022' }],
  ['windows', 'Microsoft Windows Server 2012 (64-bit)', { tag: 'Windows', win: '2012' }],
  ['windows', 'Microsoft Windows Server 2008 R2 (64-bit)', { tag: 'Windows', win: '2008R2' }],
  ['windows', 'Microsoft Windows Server 2016 or later (64-bit)', { tag: 'Windows' }],
  ['windows', 'Microsoft Windows Server 2008 (64-bit)', { reject: 'unsupported', says: /2008 \(without R2\)/ }],
  ['windows', 'Microsoft Windows Server 2008 (32-bit)', { reject: 'unsupported', says: /32-bit/ }],
  ['windows', 'Microsoft Windows Server 2003 Standard (64-bit)', { reject: 'unsupported', says: /2003/ }],
  ['windows', 'Microsoft Windows 10 (64-bit)', { reject: 'unsupported', says: /client editions/ }],
  ['windows', 'Microsoft Windows Server 2025 (64-bit)', { reject: 'unsupported' }],
  // ---- Windows captions ----
  ['windows', 'Windows Server 2012 R2 Datacenter', { tag: 'Windows', win: '2012R2' }],
  ['windows', 'Microsoft Windows Server 2008 R2 Enterprise Service Pack 1', { tag: 'Windows', win: '2008R2' }],
  ['windows', 'Microsoft Windows Server (64-bit)', { reject: 'ambiguous', says: /which Windows Server version/ }],
  // ---- /etc/os-release PRETTY_NAME ----
  ['linux', 'CentOS Linux 7 (Core)', { tag: 'RHEL7-64' }],
  ['linux', 'CentOS Linux 8', { tag: 'RHEL8-64' }],
  ['linux', 'CentOS Stream 8', { reject: 'unsupported', says: /CentOS Stream/ }],
  ['linux', 'Red Hat Enterprise Linux Server 7.9 (Maipo)', { tag: 'RHEL7-64' }],
  ['linux', 'Red Hat Enterprise Linux 8.4 (Ootpa)', { tag: 'RHEL8-64' }],
  ['linux', 'Oracle Linux Server 7.9', { tag: 'OL7-64' }],
  ['linux', 'Ubuntu 14.04.6 LTS', { tag: 'UBUNTU-14.04-64' }],
  ['linux', 'Ubuntu 16.04.7 LTS', { tag: 'UBUNTU-16.04-64' }],
  ['linux', 'Ubuntu 18.04.6 LTS', { tag: 'UBUNTU-18.04-64' }],
  ['linux', 'Ubuntu 20.04.3 LTS', { tag: 'UBUNTU-20.04-64' }],
  ['linux', 'Ubuntu 22.04.1 LTS', { reject: 'unsupported', says: /Ubuntu 22\.04 is not supported/ }],
  ['linux', 'Debian GNU/Linux 9 (stretch)', { tag: 'DEBIAN9-64' }],
  ['linux', 'Debian GNU/Linux 8 (jessie)', { tag: 'DEBIAN8-64' }],
  ['linux', 'Debian GNU/Linux 11 (bullseye)', { reject: 'unsupported' }],
  ['linux', 'SUSE Linux Enterprise Server 12 SP3', { tag: 'SLES12-64' }],
  ['linux', 'SUSE Linux Enterprise Server 12 SP5', { reject: 'unsupported', says: /12 SP5 is not supported \(SP1, SP2 and SP3 are\)/ }],
  ['linux', 'SUSE Linux Enterprise Server 12 SP4', { reject: 'unsupported', says: /12 SP4 is not supported/ }],
  ['linux', 'SUSE Linux Enterprise Server 12 SP1', { tag: 'SLES12-64' }],
  ['linux', 'SUSE Linux Enterprise Server 15 SP1', { tag: 'SLES15-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 SP4', { tag: 'SLES11-SP4-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 SP3', { tag: 'SLES11-SP3-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 SP2', { reject: 'unsupported', says: /SP3 and SP4 are/ }],
  ['linux', 'SUSE Linux Enterprise Desktop 12 SP3', { reject: 'unsupported', says: /Desktop/ }],
  ['linux', 'openSUSE Leap 15.3', { reject: 'unsupported', says: /openSUSE/ }],
  ['linux', 'Rocky Linux 8.5 (Green Obsidian)', { reject: 'unsupported', says: /not in the list/ }],
  ['linux', 'Fedora Linux 36 (Server Edition)', { reject: 'unsupported' }],
  ['linux', 'Amazon Linux 2', { reject: 'unsupported' }],
  // ---- whole /etc/os-release content ----
  ['linux', 'NAME="SLES"\nVERSION="12-SP3"\nVERSION_ID="12.3"\nPRETTY_NAME="SUSE Linux Enterprise Server 12 SP3"\nID="sles"', { tag: 'SLES12-64' }],
  ['linux', 'NAME="SLES"\nVERSION="12"\nVERSION_ID="12"\nPRETTY_NAME="SUSE Linux Enterprise Server 12"\nID="sles"', { reject: 'unsupported', says: /no service pack/ }],
  ['linux', 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"', { tag: 'RHEL7-64' }],
  ['linux', 'NAME="Oracle Linux Server"\nVERSION="8.4"\nID="ol"\nVERSION_ID="8.4"\nPRETTY_NAME="Oracle Linux Server 8.4"', { tag: 'OL8-64' }],
  // ---- /etc/redhat-release and /etc/oracle-release lines ----
  ['linux', 'CentOS Linux release 7.9.2009 (Core)', { tag: 'RHEL7-64' }],
  ['linux', 'CentOS release 6.10 (Final)', { tag: 'RHEL6-64' }],
  ['linux', 'CentOS release 5.11 (Final)', { tag: 'RHEL5-64' }],
  ['linux', 'CentOS Linux release 8.5.2111', { tag: 'RHEL8-64' }],
  ['linux', 'Red Hat Enterprise Linux Server release 7.9 (Maipo)', { tag: 'RHEL7-64' }],
  ['linux', 'Red Hat Enterprise Linux Server release 6.10 (Santiago)', { tag: 'RHEL6-64' }],
  ['linux', 'Red Hat Enterprise Linux Server release 5.11 (Tikanga)', { tag: 'RHEL5-64' }],
  ['linux', 'Red Hat Enterprise Linux release 8.4 (Ootpa)', { tag: 'RHEL8-64' }],
  ['linux', 'Red Hat Enterprise Linux release 9.0 (Plow)', { reject: 'unsupported' }],
  ['linux', 'Oracle Linux Server release 6.5', { tag: 'OL6-64' }],
  ['linux', 'Oracle Linux Server release 6.4', { tag: 'OL6-64' }],
  ['linux', 'Oracle Linux Server release 6.6', { reject: 'unsupported', says: /Oracle Linux 6\.6 is not supported \(of Oracle Linux 6 only Oracle Linux 6\.4 and 6\.5 are\)/ }],
  ['linux', 'Oracle Linux Server release 6.10', { reject: 'unsupported', says: /6\.10 is not supported/ }],
  ['linux', 'Oracle Linux Server release 6.3', { reject: 'unsupported', says: /only Oracle Linux 6\.4 and 6\.5 are/ }],
  ['linux', 'Fedora release 34 (Thirty Four)', { reject: 'unsupported' }],
  // ---- /etc/SuSE-release ----
  ['linux', 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 3', { tag: 'SLES11-SP3-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4', { tag: 'SLES11-SP4-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 (x86_64) VERSION = 11 PATCHLEVEL = 1', { reject: 'unsupported', says: /SP1 is not supported/ }],
  ['linux', 'SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 2', { tag: 'SLES12-64' }],
  ['linux', 'SUSE Linux Enterprise Server 11 (i586)\nVERSION = 11\nPATCHLEVEL = 3', { reject: 'unsupported', says: /32-bit/ }],
  ['linux', 'SUSE Linux Enterprise Server 11 (x86_64)', { reject: 'ambiguous', says: /service pack/ }],
  // ---- /etc/lsb-release ----
  ['linux', 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_CODENAME=trusty\nDISTRIB_DESCRIPTION="Ubuntu 14.04.6 LTS"', { tag: 'UBUNTU-14.04-64' }],
  ['linux', 'DISTRIB_ID=Ubuntu DISTRIB_RELEASE=16.04', { tag: 'UBUNTU-16.04-64' }],
  ['linux', 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=17.10', { reject: 'unsupported', says: /17\.10/ }],
  // ---- tags, other architectures, family mismatches, junk ----
  ['linux', 'RHEL7-64', { tag: 'RHEL7-64' }],
  ['linux', 'ubuntu-18.04-64', { tag: 'UBUNTU-18.04-64' }],
  ['windows', 'windows', { tag: 'Windows' }],
  ['linux', 'Ubuntu 18.04 LTS (aarch64)', { reject: 'unsupported', says: /aarch64/ }],
  ['linux', 'CentOS Linux release 7.9.2009 (AltArch) i686', { reject: 'unsupported', says: /32-bit/ }],
  ['linux', 'Microsoft Windows Server 2016 (64-bit)', { reject: 'mismatch', says: /os\.family is "linux"/ }],
  ['windows', 'CentOS 7 (64-bit)', { reject: 'mismatch', says: /Linux operating system/ }],
  ['windows', 'RHEL7-64', { reject: 'mismatch' }],
  ['linux', 'Windows', { reject: 'mismatch' }],
  ['linux', 'Solaris 11 (64-bit)', { reject: 'unsupported' }],
  ['linux', 'toaster', { reject: 'unsupported', says: /not a recognised operating system/ }],
  ['linux', '   ', { reject: 'ambiguous', says: /No OS name/ }],
];

describe('resolveOsName', () => {
  it(`covers at least 40 OS strings (has ${CASES.length})`, () => assert.ok(CASES.length >= 40));

  for (const [family, name, expect] of CASES) {
    const label = `${family}: ${JSON.stringify(name)} -> ${'tag' in expect ? expect.tag + (expect.win ? ` ${expect.win}` : '') : expect.reject}`;
    it(label, () => {
      const r = resolveOsName(family, name);
      if ('tag' in expect) {
        assert.ok(r.ok, `expected ${expect.tag}, got: ${r.ok ? '' : r.reason}`);
        assert.equal(r.tag, expect.tag);
        assert.equal(r.windowsVersion, expect.win);
        assert.ok(r.description.length > 0);
        return;
      }
      assert.ok(!r.ok, `expected a rejection, got ${r.ok ? r.tag : ''}`);
      if (expect.says) assert.match(r.reason, expect.says);
      switch (expect.reject) {
        case 'unsupported':
          assert.equal(r.unsupported, true);
          assert.equal(r.code, Codes.UnsupportedOs);
          assert.match(r.reason, /Supported operating systems \(64-bit only\): /);
          // lists the supported OSes of the family
          assert.match(r.reason, family === 'windows' ? /Windows Server 2016/ : /CentOS 7 \[RHEL7-64\].*Ubuntu 20\.04 LTS \[UBUNTU-20\.04-64\]/);
          break;
        case 'ambiguous':
          assert.equal(r.unsupported, false);
          assert.equal(r.code, Codes.OsNotDetected);
          assert.match(r.reason, /os\.tag/);
          break;
        case 'mismatch':
          assert.equal(r.unsupported, false);
          assert.equal(r.code, Codes.OsMismatch);
          break;
      }
    });
  }

  it('quotes long multi-line input on one line in reasons', () => {
    const r = resolveOsName('linux', `DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=23.04\n${'X'.repeat(300)}`);
    assert.ok(!r.ok);
    assert.doesNotMatch(r.reason, /\n/);
  });
});
