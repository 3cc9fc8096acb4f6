import type { DistroGuess } from './distro.ts';
import { ambiguousOs, quoteOs, resolved, unsupportedOs, type OsResolution } from './os-resolution.ts';
import { DOCUMENTED_LIMITS } from './os-tags.ts';

const OL6_MINORS = DOCUMENTED_LIMITS.oracleLinux6Minors;
const SLES12_SPS = DOCUMENTED_LIMITS.sles12ServicePacks;
const OL6_TEXT = `Oracle Linux ${OL6_MINORS.map((m) => `6.${m}`).join(' and ')}`;
const SLES12_TEXT = `SP${SLES12_SPS.slice(0, -1).join(', SP')} and SP${SLES12_SPS.at(-1)}`;

/** Maps an identified Linux distribution and version to its OS tag (asr-facts.md §5). */

const RHEL_TAGS: Record<string, string> = { 5: 'RHEL5-64', 6: 'RHEL6-64', 7: 'RHEL7-64', 8: 'RHEL8-64' };
const OL_TAGS: Record<string, string> = { 6: 'OL6-64', 7: 'OL7-64', 8: 'OL8-64' };
const UBUNTU_TAGS: Record<string, string> = {
  '14.04': 'UBUNTU-14.04-64', '16.04': 'UBUNTU-16.04-64', '18.04': 'UBUNTU-18.04-64', '20.04': 'UBUNTU-20.04-64',
};
const DEBIAN_TAGS: Record<string, string> = { 7: 'DEBIAN7-64', 8: 'DEBIAN8-64', 9: 'DEBIAN9-64' };

const NAMES: Record<DistroGuess['distro'], string> = {
  rhel: 'Red Hat Enterprise Linux', centos: 'CentOS', 'centos-stream': 'CentOS Stream', oracle: 'Oracle Linux',
  sles: 'SUSE Linux Enterprise Server', sled: 'SUSE Linux Enterprise Desktop', opensuse: 'openSUSE', ubuntu: 'Ubuntu',
  debian: 'Debian', 'generic-linux': 'Linux', other: 'This distribution',
};

function parts(version: string): { major: string; minor?: number } {
  const [major = '', minor] = version.split('.');
  return minor === undefined ? { major } : { major, minor: Number(minor) };
}

/** The tag for one exact version, or a failure. */
function resolveVersion(g: DistroGuess, version: string): OsResolution {
  const name = NAMES[g.distro];
  const what = quoteOs(g.text);
  const { major, minor } = parts(version);
  switch (g.distro) {
    case 'rhel':
    case 'centos': {
      const tag = RHEL_TAGS[major];
      return tag ? resolved(tag, `${name} ${version}`) : unsupportedOs(what, `${name} ${major} is not supported (5 to 8 are)`, 'linux');
    }
    case 'oracle':
      return resolveOracle(g, version, major, minor);
    case 'sles':
      return resolveSles(g, major);
    case 'ubuntu': {
      const short = version.split('.').slice(0, 2).join('.');
      const tag = UBUNTU_TAGS[short];
      return tag ? resolved(tag, `Ubuntu ${short} LTS`) : unsupportedOs(what, `Ubuntu ${short} is not supported (14.04, 16.04, 18.04 and 20.04 LTS are)`, 'linux');
    }
    case 'debian': {
      const tag = DEBIAN_TAGS[major];
      return tag ? resolved(tag, `Debian ${major}`) : unsupportedOs(what, `Debian ${major} is not supported (7, 8 and 9 are)`, 'linux');
    }
    default:
      return resolveGuess(g);
  }
}

function resolveOracle(g: DistroGuess, version: string, major: string, minor: number | undefined): OsResolution {
  const what = quoteOs(g.text);
  const tag = OL_TAGS[major];
  if (!tag) return unsupportedOs(what, `Oracle Linux ${major} is not supported (${OL6_TEXT}, 7 and 8 are)`, 'linux');
  if (major === '6') {
    if (minor === undefined) return ambiguousOs(`${what} does not say which Oracle Linux 6 update it is: only ${OL6_TEXT} are supported.`, 'linux');
    if (!OL6_MINORS.includes(minor)) return unsupportedOs(what, `Oracle Linux ${version} is not supported (of Oracle Linux 6 only ${OL6_TEXT} are)`, 'linux');
  }
  return resolved(tag, `Oracle Linux ${version}`);
}

function resolveSles(g: DistroGuess, major: string): OsResolution {
  const what = quoteOs(g.text);
  const sp = g.servicePack;
  const spText = sp === undefined ? '' : sp === 0 ? ' (no service pack)' : ` SP${sp}`;
  if (major === '11') {
    if (sp === undefined) {
      return ambiguousOs(`${what} does not say which SUSE Linux Enterprise Server 11 service pack it is: SP3 (SLES11-SP3-64) and SP4 (SLES11-SP4-64) use different installers.`, 'linux');
    }
    if (sp === 3) return resolved('SLES11-SP3-64', 'SUSE Linux Enterprise Server 11 SP3');
    if (sp === 4) return resolved('SLES11-SP4-64', 'SUSE Linux Enterprise Server 11 SP4');
    return unsupportedOs(what, `SUSE Linux Enterprise Server 11${spText} is not supported (SP3 and SP4 are)`, 'linux');
  }
  if (major === '12') {
    if (sp === undefined) return ambiguousOs(`${what} does not say which SUSE Linux Enterprise Server 12 service pack it is: only ${SLES12_TEXT} are supported.`, 'linux');
    if (SLES12_SPS.includes(sp)) return resolved('SLES12-64', `SUSE Linux Enterprise Server 12 SP${sp}`);
    return unsupportedOs(what, `SUSE Linux Enterprise Server 12${spText} is not supported (${SLES12_TEXT} are)`, 'linux');
  }
  if (major === '15') return resolved('SLES15-64', `SUSE Linux Enterprise Server 15${spText}`);
  return unsupportedOs(what, `SUSE Linux Enterprise Server ${major} is not supported (11 SP3, 11 SP4, 12 and 15 are)`, 'linux');
}

/** Resolve an identified Linux distribution to an OS tag, or explain why not. */
export function resolveGuess(g: DistroGuess): OsResolution {
  const what = quoteOs(g.text);
  const name = NAMES[g.distro];
  switch (g.distro) {
    case 'centos-stream':
      return unsupportedOs(what, 'CentOS Stream is not CentOS Linux and is not in the list', 'linux');
    case 'sled':
      return unsupportedOs(what, 'SUSE Linux Enterprise Desktop is not supported (Server is)', 'linux');
    case 'opensuse':
      return unsupportedOs(what, 'openSUSE is not supported (SUSE Linux Enterprise Server is)', 'linux');
    case 'other':
      return unsupportedOs(what, 'the distribution is not in the list of supported ones', 'linux');
    case 'generic-linux':
      return ambiguousOs(`${what} does not say which Linux distribution and version it is.`, 'linux');
    default:
      break;
  }
  if (g.alternatives && g.alternatives.length > 0) {
    const results = g.alternatives.map((v) => resolveVersion({ ...g, alternatives: [] }, v));
    const tags = [...new Set(results.flatMap((r) => (r.ok ? [r.tag] : [])))];
    if (tags.length === 0) {
      return unsupportedOs(what, `none of ${name} ${g.alternatives.join(', ')} is supported`, 'linux');
    }
    if (tags.length === 1 && results.every((r) => r.ok)) return results[0] as OsResolution;
    return ambiguousOs(`${what} covers several versions (${g.alternatives.map((v) => `${name} ${v}`).join(', ')}) that need different installers or are not supported.`, 'linux');
  }
  if (!g.version) {
    return ambiguousOs(`${what} does not say which ${name} version it is, and each version needs its own installer.`, 'linux');
  }
  return resolveVersion(g, g.version);
}
