import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { resolveOsName } from '../../repository/os-mapping.ts';
import { DOCUMENTED_LIMITS } from '../../repository/os-tags.ts';
import { WINDOWS_VERSIONS, windowsMinAgentVersion } from '../../repository/windows.ts';
import { compareVersions } from '../../repository/versions.ts';
import type { JobContext } from '../context.ts';
import type { SelectedInstaller } from '../deps.ts';
import { tail } from '../output.ts';
import { parseRegQuery, parseWhoamiGroups, regString, TOKEN_FILTER_POLICY } from './commands.ts';
import type { WindowsFacts } from './facts.ts';

const MiB = 1024 * 1024;
export const STAGING_MIN_BYTES = 100 * MiB;
export const INSTALL_VOLUME_MIN_BYTES = 500 * MiB;

/** Server builds to the versions asr-facts.md §5 names (the build tells 2016 from 2019 whatever the product name says). */
const BUILDS: Record<string, string> = { 7601: '2008R2', 9200: '2012', 9600: '2012R2', 14393: '2016', 17763: '2019', 20348: '2022' };

export interface WindowsOsInfo { productName: string; build: string; installationType: string; windowsVersion: string | undefined }

export function windowsOsOf(facts: WindowsFacts): WindowsOsInfo {
  const values = parseRegQuery(facts.windowsVersion());
  const productName = regString(values, 'ProductName') ?? '';
  const build = regString(values, 'CurrentBuildNumber') ?? regString(values, 'CurrentBuild') ?? '';
  const installationType = regString(values, 'InstallationType') ?? 'Server';
  let windowsVersion = BUILDS[build];
  if (windowsVersion === undefined && productName) {
    const res = resolveOsName('windows', productName);
    if (res.ok) windowsVersion = res.windowsVersion;
  }
  return { productName, build, installationType, windowsVersion };
}

function checkAdmin(facts: WindowsFacts, username: string): void {
  const groups = parseWhoamiGroups(facts.groups());
  if (groups.admin) return;
  const seen = { administratorsGroup: groups.administratorsAttributes, integrityLevel: groups.integrity, integritySid: groups.integritySid };
  if (!groups.administratorsMember) {
    throw new PushError(Codes.WindowsCredentials, {
      reason: `${username} is not a member of the Administrators group (S-1-5-32-544) on the machine`, ...seen,
      hint: 'Use an account that is a local administrator on the machine (a member of Administrators), local or domain.',
    }, { message: 'The run-as account does not have administrator rights on the machine.' });
  }
  throw new PushError(Codes.WindowsCredentials, {
    reason: `${username} is in Administrators, but its logon token is not elevated (integrity ${groups.integritySid ?? 'unknown'}, not High S-1-16-12288): remote UAC filtering of a local account`,
    ...seen,
    hint: `For a local account set ${TOKEN_FILTER_POLICY}, or use a domain administrator.`,
  }, { message: 'The run-as account does not have administrator rights on the machine.' });
}

function checkArchitecture(facts: WindowsFacts): void {
  const res = facts.architecture();
  const arch = regString(parseRegQuery(res.output), 'PROCESSOR_ARCHITECTURE');
  if (!res.ok || arch === undefined) {
    throw new PushError(Codes.CommandFailed, { what: 'read PROCESSOR_ARCHITECTURE', exitCode: res.ok ? 0 : 'non-zero', stderr: tail(facts.stderr, 5) });
  }
  if (arch.toUpperCase() !== 'AMD64') {
    throw new PushError(Codes.UnsupportedArch, { PROCESSOR_ARCHITECTURE: arch }, { message: `The machine runs ${arch} Windows; the Mobility Service needs 64-bit x64 (AMD64) Windows.` });
  }
}

function checkVersion(ctx: JobContext, os: WindowsOsInfo, installer: SelectedInstaller): void {
  const seen = `${os.productName || 'Windows'} (build ${os.build || 'unknown'})`;
  if (/client/i.test(os.installationType)) {
    throw new PushError(Codes.UnsupportedOs, { productName: os.productName, build: os.build, installationType: os.installationType },
      { message: `${seen} is a Windows client edition; the Mobility Service supports Windows Server only.` });
  }
  const requested = ctx.job.request.os.name;
  if (requested) {
    const res = resolveOsName('windows', requested);
    if (res.ok && res.windowsVersion && os.windowsVersion && res.windowsVersion !== os.windowsVersion) {
      ctx.log(`the request says "${requested}" but the machine runs ${seen}; checking what the machine runs`);
    }
  }
  if (os.build === DOCUMENTED_LIMITS.windows2008R2RtmBuild) {
    // The product name of RTM says "2008 R2" too; only the build tells it lacks SP1.
    throw new PushError(Codes.WindowsVersionUnsupported, { productName: os.productName, build: os.build, agentVersion: installer.version, required: 'Service Pack 1' },
      { message: `${seen} is Windows Server 2008 R2 without Service Pack 1: the Mobility Service supports 2008 R2 with SP1 (build ${DOCUMENTED_LIMITS.windows2008R2Sp1Build}) only. Install SP1, then restart the job.` });
  }
  if (os.windowsVersion === undefined || !WINDOWS_VERSIONS.includes(os.windowsVersion)) {
    throw new PushError(Codes.WindowsVersionUnsupported, { productName: os.productName, build: os.build, agentVersion: installer.version },
      { message: `${seen} is not supported by the Mobility Service.` });
  }
  const min = windowsMinAgentVersion(os.windowsVersion);
  if (min !== undefined && compareVersions(installer.version, min) < 0) {
    throw new PushError(Codes.WindowsVersionUnsupported, {
      windowsVersion: os.windowsVersion, productName: os.productName, build: os.build, agentVersion: installer.version, requiredAgentVersion: min,
    }, { message: `Windows Server ${os.windowsVersion} needs agent ${min} or later; the repository offers ${installer.version}.` });
  }
}

/**
 * The prerequisite check (guest-contract.md, Windows step 3), each failing check its own error:
 * administrator rights (95107), 64-bit (99010), Windows version for the agent version (99023),
 * 500 MB free on the install volume (99012). `facts`: a read with `prerequisites` and the install folder
 * in `freeSpace` (facts.ts).
 */
export async function checkWindowsPrerequisites(ctx: JobContext, facts: WindowsFacts, installer: SelectedInstaller, installDir: string, username: string): Promise<void> {
  checkAdmin(facts, username);
  checkArchitecture(facts);
  const os = windowsOsOf(facts);
  checkVersion(ctx, os, installer);
  const free = await facts.freeBytes(installDir);
  if (free < INSTALL_VOLUME_MIN_BYTES) {
    throw new PushError(Codes.InstallSpace, { path: installDir, freeMiB: Math.floor(free / MiB), requiredMiB: INSTALL_VOLUME_MIN_BYTES / MiB });
  }
  ctx.log(`prerequisites passed: administrator, AMD64, ${os.productName} (build ${os.build}) with agent ${installer.version}, ${Math.floor(free / MiB)} MiB free for ${installDir}`);
}
