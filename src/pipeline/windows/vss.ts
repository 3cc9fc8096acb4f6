import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { compareReleases } from '../../repository/versions.ts';
import { agentDir } from './commands.ts';

/** UnifiedAgent.exe exit codes that mean "agent installed, VSS provider failed", with their cause (asr-facts.md §3). */
export const VSS_EXIT_CODES: ReadonlyMap<number, { cause: string; hresult?: string }> = new Map([
  [511, { cause: 'An antivirus program blocks the VSS provider installation (exclude C:\\ProgramData\\ASR\\agent from antivirus scanning), or the machine does not have enough memory.', hresult: '0x800706BE / 0x7' }],
  [512, { cause: 'The service control manager database is locked.', hresult: '0x8007041F' }],
  [517, { cause: 'The VSS provider service is marked for deletion.', hresult: '0x80070430' }],
  [806, { cause: 'The account the installer runs as is not allowed to run CSScript.' }],
  [802, { cause: 'DCOM/COM+ is in a critical state.', hresult: '0x8004E00F' }],
]);

/** From this agent version on, a VSS provider failure leaves the agent installed and the job ends Warning. */
export const VSS_WARNING_FROM = '9.23';

export function isVssExitCode(code: number | null): code is number {
  return code !== null && VSS_EXIT_CODES.has(code);
}

/** Whether a VSS failure with this agent version is a warning (≥ 9.23) or fails the install (≤ 9.22). */
export function vssFailureIsWarning(agentVersion: string): boolean {
  return compareReleases(agentVersion, VSS_WARNING_FROM) >= 0;
}

/** Where a VSS exit code came from: UnifiedAgent.exe during an install, or InMageVSSProvider_Install.cmd run alone. */
export type VssSource = 'installer' | 'script';

/** The VSS provider error (99015) for an exit code, with its cause and the manual remedy. */
export function vssError(exitCode: number | null, agentVersion: string, installDir: string, source: VssSource = 'installer'): PushError {
  const entry = exitCode === null ? undefined : VSS_EXIT_CODES.get(exitCode);
  const folder = agentDir(installDir);
  const details: Record<string, unknown> = {
    exitCode,
    cause: entry?.cause ?? 'unknown',
    agentVersion,
    remedy: source === 'installer' && !vssFailureIsWarning(agentVersion)
      ? `Use agent ${VSS_WARNING_FROM} or later (a VSS provider failure then only warns and the agent stays installed); correct the cause, then in ${folder} run InMageVSSProvider_Install.cmd manually as an administrator (or turn off application-consistent recovery points).`
      : `Correct the cause, then in ${folder} run InMageVSSProvider_Uninstall.cmd and then InMageVSSProvider_Install.cmd as an administrator (or turn off application-consistent recovery points).`,
    impact: source === 'script' || vssFailureIsWarning(agentVersion)
      ? 'The agent is installed and registered; crash-consistent recovery points are unaffected, application-consistent ones need the VSS provider.'
      : `Agent ${agentVersion} (9.22 and earlier) treats a VSS provider failure as a failed agent installation.`,
  };
  if (entry?.hresult) details.hresult = entry.hresult;
  const what = source === 'script' ? 'InMageVSSProvider_Install.cmd exit code' : 'installer exit code';
  return new PushError(Codes.VssFailed, details, {
    message: `The VSS provider could not be installed (${what} ${exitCode}): ${entry?.cause ?? 'unknown cause'}`,
  });
}
