/**
 * The OS-tag table as data: which installer (OS tag) covers which operating systems, with the limits the
 * product documentation sets inside a tag. All are 64-bit only.
 */

/** Where the table and its limits come from. */
export const OS_SUPPORT_SOURCE = 'Azure Site Recovery documentation: Mobility Service installers on the configuration server and their supported operating systems (digest: ../shared/domain/asr-facts.md §5; issue 14 where they differ)';

/**
 * Limits inside a tag, exactly as documented: Oracle Linux 6 only 6.4 and 6.5; SLES 12 only SP1, SP2 and
 * SP3; Windows Server 2008 R2 only with SP1 (build 7601; 7600 is RTM).
 */
export const DOCUMENTED_LIMITS = Object.freeze({
  oracleLinux6Minors: Object.freeze([4, 5]),
  sles12ServicePacks: Object.freeze([1, 2, 3]),
  windows2008R2Sp1Build: '7601',
  windows2008R2RtmBuild: '7600',
});

/** An OS kept although the documentation this table follows does not list it: only from an agent version. */
export interface OsExtension {
  os: string;
  /** windowsVersion as OsResolution spells it. */
  windowsVersion: string;
  minAgentVersion: string;
}

export type Platform = 'windows' | 'linux';

export interface OsTagInfo {
  /** Canonical tag, as it appears in installer file names (e.g. "RHEL7-64"). */
  tag: string;
  platform: Platform;
  /** The operating systems this installer covers, for people. */
  osNames: string[];
  /** † in the table: from agent 9.36 not shipped with the server; must be downloaded and placed manually. */
  manualPlacement: boolean;
  /** Extension of the installer file: ".exe" for Windows, ".tar.gz" for Linux. */
  extension: 'exe' | 'tar.gz';
  /** For manual-placement tags: the first agent version that is no longer shipped with the server. */
  notShippedFrom?: string;
  /** Operating systems kept beyond the documentation, each with the agent version it needs. */
  extensions?: readonly OsExtension[];
}

/** First agent version whose installers for the † tags are no longer shipped with the server. */
export const MANUAL_PLACEMENT_FROM_VERSION = '9.36';

function linux(tag: string, osNames: string[], manualPlacement = false): OsTagInfo {
  const info: OsTagInfo = { tag, platform: 'linux', osNames, manualPlacement, extension: 'tar.gz' };
  if (manualPlacement) info.notShippedFrom = MANUAL_PLACEMENT_FROM_VERSION;
  return info;
}

const WINDOWS: OsTagInfo = {
  tag: 'Windows', platform: 'windows', manualPlacement: false, extension: 'exe',
  osNames: ['Windows Server 2008 R2 SP1', 'Windows Server 2012', 'Windows Server 2012 R2', 'Windows Server 2016'],
  extensions: Object.freeze([
    Object.freeze({ os: 'Windows Server 2019', windowsVersion: '2019', minAgentVersion: '9.22' }),
    Object.freeze({ os: 'Windows Server 2022', windowsVersion: '2022', minAgentVersion: '9.46' }),
  ]),
};

export const OS_TAGS: readonly OsTagInfo[] = Object.freeze([
  WINDOWS,
  linux('RHEL5-64', ['Red Hat Enterprise Linux 5', 'CentOS 5'], true),
  linux('RHEL6-64', ['Red Hat Enterprise Linux 6', 'CentOS 6']),
  linux('RHEL7-64', ['Red Hat Enterprise Linux 7', 'CentOS 7']),
  linux('RHEL8-64', ['Red Hat Enterprise Linux 8', 'CentOS 8']),
  linux('SLES11-SP3-64', ['SUSE Linux Enterprise Server 11 SP3'], true),
  linux('SLES11-SP4-64', ['SUSE Linux Enterprise Server 11 SP4']),
  linux('SLES12-64', ['SUSE Linux Enterprise Server 12 SP1, SP2, SP3']),
  linux('SLES15-64', ['SUSE Linux Enterprise Server 15']),
  linux('OL6-64', ['Oracle Linux 6.4, 6.5']),
  linux('OL7-64', ['Oracle Linux 7']),
  linux('OL8-64', ['Oracle Linux 8']),
  linux('UBUNTU-14.04-64', ['Ubuntu 14.04 LTS']),
  linux('UBUNTU-16.04-64', ['Ubuntu 16.04 LTS']),
  linux('UBUNTU-18.04-64', ['Ubuntu 18.04 LTS']),
  linux('UBUNTU-20.04-64', ['Ubuntu 20.04 LTS']),
  linux('DEBIAN7-64', ['Debian 7'], true),
  linux('DEBIAN8-64', ['Debian 8']),
  linux('DEBIAN9-64', ['Debian 9']),
].map((t): OsTagInfo => Object.freeze(t)));

const byLowerTag = new Map(OS_TAGS.map((t) => [t.tag.toLowerCase(), t]));

/** Case-insensitive lookup ("rhel7-64" finds "RHEL7-64"); the result carries the canonical tag. */
export function osTagInfo(tag: string): OsTagInfo | undefined {
  return byLowerTag.get(tag.trim().toLowerCase());
}

/** The canonical spelling of a tag, or undefined if unknown. */
export function canonicalTag(tag: string): string | undefined {
  return osTagInfo(tag)?.tag;
}

/** The operating systems of a tag for people, extensions marked with their agent version. */
export function osNamesOf(t: OsTagInfo): string[] {
  return [...t.osNames, ...(t.extensions ?? []).map((e) => `${e.os} (agent ${e.minAgentVersion} and later; an extension of the documented list)`)];
}

/** "Supported (64-bit only): ..." for error messages; optionally for one platform only. */
export function supportedOsList(platform?: Platform): string {
  return OS_TAGS.filter((t) => platform === undefined || t.platform === platform)
    .map((t) => `${osNamesOf(t).join(', ')} [${t.tag}]`)
    .join('; ');
}
