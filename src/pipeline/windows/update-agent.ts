import { Codes } from '../../errors/catalogue.ts';
import type { JobError } from '../../domain/job.ts';
import { PushError } from '../../errors/push-error.ts';
import { compareReleases } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { selectUpdateTarget } from '../upgrade-path.ts';
import type { WindowsAgentState } from './agent-state.ts';
import { readWindows, type WindowsFacts } from './facts.ts';
import { installAgent, UPDATE_STEP, type InstallOutcome } from './install.ts';
import { checkWindowsPrerequisites } from './prerequisites.ts';
import { registerWindowsAgent, verifyWindowsAgent } from './register.ts';
import { checkRequestedOs, copyInstaller, installedAgentDir, windowsInstallDir, windowsStagingDir, withWindowsSession } from './steps.ts';

/** The UpdateMobilityService task's message: what was done, whether it was one step of several, what is pending. */
function updateMessage(outcome: InstallOutcome, from: string, to: string, finalTarget: string): string {
  const step = finalTarget !== to;
  let text = `updated ${from} to ${to}`;
  if (step) text += `, one step of at most 4 minor versions; update again to reach ${finalTarget}`;
  if (outcome.rebootRequired) return `${text}; a reboot is required to load the filter driver`;
  if (outcome.vssFailure) return `${text}; the VSS provider failed (installer exit code ${outcome.exitCode})`;
  return step ? text : `${text}; a reboot is recommended (mandatory when more than 4 versions were skipped since the last reboot)`;
}

/**
 * "Update Mobility Service" on a Windows guest: brings an installed agent (99021 otherwise) to the
 * configuration server's version in steps of at most 4 minor versions (selectUpdateTarget), in the
 * install folder the registry names, with the exit-code rules of the install (3010: 95266, VSS codes as
 * for enable); the registration is kept and verified (or made, when the agent was not registered).
 */
export async function updateAgentWindows(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const stage = windowsStagingDir(ctx.job.id);
  const requestedDir = windowsInstallDir(ctx.job.request.installLocation);
  checkRequestedOs(ctx);
  return withWindowsSession(ctx, deps, stage, async (session) => {
    let installer!: SelectedInstaller;
    let state!: WindowsAgentState;
    let facts!: WindowsFacts;
    let installDir = requestedDir;
    let finalTarget = '';
    let remote = '';
    let upToDate = false;
    await ctx.task('CopyInstaller', async () => {
      const guest = await session.connect();
      const before = await readWindows(guest, { agentState: true, freeSpace: [stage] });
      state = before.agentState();
      if (!state.installed || !state.version) {
        throw new PushError(Codes.AgentNotInstalled, { machine: ctx.job.machine.address, ...(state.installed ? { reason: 'the registry shows no agent version (DisplayVersion)' } : {}) });
      }
      installDir = installedAgentDir(state.installDir, requestedDir);
      ({ installer, finalTarget } = await selectUpdateTarget(deps, 'Windows', state.version));
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      if (compareReleases(state.version, installer.version) >= 0) { upToDate = true; return; }
      ctx.log(`updating agent ${state.version} in ${installDir} to ${installer.version}${finalTarget !== installer.version ? ` (a step towards ${finalTarget})` : ''}`);
      ({ remote, facts } = await copyInstaller(ctx, guest, installer, stage, before, { prerequisites: true, freeSpace: [installDir] }));
    });
    const g = session.guest;
    const from = state.version as string;
    const warnings: JobError[] = [];
    if (upToDate) {
      const what = `agent ${from} is already at the configuration server's version or newer`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', what);
      await ctx.skip('UpdateMobilityService', what);
      await ctx.skip('InstallVssProvider', what);
    } else {
      await ctx.task('PrerequisiteCheck', () => checkWindowsPrerequisites(ctx, facts, installer, installDir, g.account));
      const done = await installAgent(ctx, g, installer, remote, stage, installDir, UPDATE_STEP);
      warnings.push(...done.warnings);
      await ctx.note('UpdateMobilityService', updateMessage(done.outcome, from, installer.version, finalTarget));
    }
    const version = upToDate ? from : installer.version;
    if (state.registered) {
      await ctx.task('RegisterWithConfigurationServer', async () => {
        await verifyWindowsAgent(ctx, g, version, installDir);
        await ctx.note('RegisterWithConfigurationServer', 'the agent keeps its registration and its install folder; verified in the registry');
      });
    } else {
      await ctx.task('RegisterWithConfigurationServer', () => registerWindowsAgent(ctx, g, deps, stage, installDir, version));
    }
    return { state: warnings.length > 0 ? 'Warning' : 'Succeeded', warnings };
  });
}
