import { ambiguousOs, quoteOs, resolved, unsupportedOs, type OsResolution } from './os-resolution.ts';
import { osTagInfo } from './os-tags.ts';

/**
 * Windows names ("Microsoft Windows Server 2016 (64-bit)", "Windows Server 2012 R2 Datacenter") to the
 * Windows tag and a Windows version. Per asr-facts.md §5: Server 2008 R2 SP1, 2012, 2012 R2, 2016, 2019
 * (agent 9.22 and later), 2022 (agent 9.46 and later), 64-bit only.
 */

/** Minimum agent version per Windows version (the extensions of the OS table); versions not listed work with every agent. */
const MIN_AGENT: Record<string, string> = Object.fromEntries((osTagInfo('Windows')?.extensions ?? []).map((e) => [e.windowsVersion, e.minAgentVersion]));

/** Supported Windows versions as OsResolution.windowsVersion spells them. */
export const WINDOWS_VERSIONS: readonly string[] = ['2008R2', '2012', '2012R2', '2016', '2019', '2022'];

/** The oldest agent version that supports this Windows version ('2019' -> '9.22'), undefined if any. */
export function windowsMinAgentVersion(windowsVersion: string): string | undefined {
  return MIN_AGENT[windowsVersion.toUpperCase()];
}

const THIRTY_TWO_BIT = /\b32[\s-]?bit\b|\bx86\b(?![_-]64)|\bi[3-6]86\b/i;
const OTHER_ARCH = /\b(?:arm64|aarch64|ia64|itanium)\b/i;
const CLIENT = /\bwindows\s+(?:xp|vista|7|8(?:\.1)?|10|11|nt|2000\s+professional|me|98|95)\b/i;

export function resolveWindowsName(name: string): OsResolution {
  const what = quoteOs(name);
  if (THIRTY_TWO_BIT.test(name)) return unsupportedOs(what, '32-bit Windows is not supported', 'windows');
  if (OTHER_ARCH.test(name)) return unsupportedOs(what, 'only 64-bit x86 (x64) Windows is supported', 'windows');
  if (CLIENT.test(name) && !/\bserver\b/i.test(name)) {
    return unsupportedOs(what, 'Windows client editions are not in the list of supported operating systems', 'windows');
  }
  const year = /\b(2000|2003|2008|2012|2016|2019|2022|2025)\b/.exec(name)?.[1];
  if (!year) return ambiguousOs(`${what} does not say which Windows Server version it is.`, 'windows');
  const r2 = /\bR2\b/i.test(name);
  const orLater = /\bor\s+later\b/i.test(name);
  switch (year) {
    case '2008':
      if (!r2) return unsupportedOs(what, 'Windows Server 2008 (without R2) is not supported', 'windows');
      if (/\bSP\s*0\b|\bRTM\b/i.test(name)) return unsupportedOs(what, 'Windows Server 2008 R2 needs Service Pack 1', 'windows');
      return resolved('Windows', 'Windows Server 2008 R2 (Service Pack 1 required)', '2008R2');
    case '2012':
      return resolved('Windows', r2 ? 'Windows Server 2012 R2' : 'Windows Server 2012', r2 ? '2012R2' : '2012');
    case '2016':
      if (orLater) return resolved('Windows', 'Windows Server 2016 or later (exact version to be checked on the machine)');
      return resolved('Windows', 'Windows Server 2016', '2016');
    case '2019':
      return resolved('Windows', `Windows Server 2019 (agent ${MIN_AGENT['2019']} and later)`, '2019');
    case '2022':
      return resolved('Windows', `Windows Server 2022 (agent ${MIN_AGENT['2022']} and later)`, '2022');
    default:
      return unsupportedOs(what, `Windows Server ${year}${r2 ? ' R2' : ''} is not supported`, 'windows');
  }
}
