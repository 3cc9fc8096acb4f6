import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { compareReleases } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { SelectedInstaller, PipelineDeps } from '../deps.ts';
import { selectUpdateTarget } from '../upgrade-path.ts';
import { resolveJobOsTag } from './detect-os.ts';
import type { GuestFacts } from './probe.ts';
import { checkPrerequisites, copyInstaller, install, installDirOf, probeForInstall, register, stagingDir, verifyAgent, withLinuxSession, type AgentState, type StagedInstaller } from './steps.ts';

/**
 * "Update Mobility Service" on a Linux guest: brings an installed agent to the configuration server's
 * version (in steps of at most 4 minor versions), keeps its install folder and its registration.
 */
export async function updateAgentLinux(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const stage = stagingDir(ctx.job.id);
  return withLinuxSession(ctx, deps, stage, async (session) => {
    let installer!: SelectedInstaller;
    let state!: AgentState;
    let facts!: GuestFacts;
    let staged!: StagedInstaller;
    let finalTarget = '';
    let upToDate = false;
    await ctx.task('CopyInstaller', async () => {
      const guest = await session.connect();
      // The install folder's free space is read for the requested (or default) folder; an agent installed
      // elsewhere costs one more command at the prerequisite check.
      facts = await probeForInstall(ctx, guest, stage, installDirOf(ctx.job.request.installLocation), deps.settings.stepTimeoutMs);
      state = facts.agentState();
      if (!state.installed || !state.version) throw new PushError(Codes.AgentNotInstalled, { machine: ctx.job.machine.address });
      const tag = resolveJobOsTag(ctx, facts);
      ({ installer, finalTarget } = await selectUpdateTarget(deps, tag, state.version));
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      if (compareReleases(state.version, installer.version) >= 0) { upToDate = true; return; }
      ctx.log(`updating agent ${state.version} to ${installer.version}${finalTarget !== installer.version ? ` (a step towards ${finalTarget})` : ''}`);
      staged = await copyInstaller(ctx, guest, facts, installer, stage);
    });
    const installDir = installDirOf(state.installDir ?? ctx.job.request.installLocation);
    if (upToDate) {
      const what = `agent ${state.version} is already at the configuration server's version or newer`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', what);
      await ctx.skip('UpdateMobilityService', what);
    } else {
      await ctx.task('PrerequisiteCheck', () => checkPrerequisites(ctx, facts, installer.osTag, installDir));
      await ctx.task('UpdateMobilityService', () => install(ctx, session.guest, staged, installDir));
      if (finalTarget !== installer.version) {
        await ctx.note('UpdateMobilityService', `updated to ${installer.version}, one step of at most 4 minor versions; update again to reach ${finalTarget}`);
      } else {
        await ctx.note('UpdateMobilityService', 'updated; a reboot is recommended (mandatory when more than 4 versions were skipped since the last reboot)');
      }
    }
    await ctx.skip('InstallVssProvider', 'the VSS provider applies to Windows only');
    const version = upToDate ? (state.version as string) : installer.version;
    if (state.registered) {
      await ctx.task('RegisterWithConfigurationServer', async () => {
        await verifyAgent(ctx, session.guest, version);
        await ctx.note('RegisterWithConfigurationServer', 'the agent keeps its registration; verified');
      });
    } else {
      await readCsSettings(deps.settings);
      await ctx.task('RegisterWithConfigurationServer', () => register(ctx, session.guest, deps, stage, installDir, version, session));
    }
    return { state: 'Succeeded', warnings: [] };
  });
}
