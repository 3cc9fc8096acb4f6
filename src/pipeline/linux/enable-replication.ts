import { compareReleases } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { resolveJobOsTag } from './detect-os.ts';
import type { GuestFacts } from './probe.ts';
import { checkPrerequisites, copyInstaller, install, installDirOf, probeForInstall, register, stagingDir, withLinuxSession, type AgentState, type StagedInstaller } from './steps.ts';

/**
 * Enable replication on a Linux guest (guest-contract.md, Linux): copy, prerequisites, install,
 * register, verify; the VSS task does not apply and is Skipped.
 */
export async function enableReplicationLinux(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const stage = stagingDir(ctx.job.id);
  const installDir = installDirOf(ctx.job.request.installLocation);
  await readCsSettings(deps.settings); // fail before touching the guest when registration cannot work
  return withLinuxSession(ctx, deps, stage, async (session) => {
    let installer!: SelectedInstaller;
    let state!: AgentState;
    let facts!: GuestFacts;
    let staged!: StagedInstaller;
    let nothingToInstall = false;
    await ctx.task('CopyInstaller', async () => {
      const guest = await session.connect();
      // Everything the copy and the prerequisite check read, in one exec; checked below in their order.
      facts = await probeForInstall(ctx, guest, stage, installDir, deps.settings.stepTimeoutMs);
      const tag = resolveJobOsTag(ctx, facts);
      installer = await deps.repository.select(tag);
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      ctx.log(`selected ${installer.file} (agent ${installer.version}, SHA-256 ${installer.sha256})`);
      state = facts.agentState();
      if (state.installed && state.version && compareReleases(state.version, installer.version) >= 0) {
        nothingToInstall = true;
        await ctx.setInstalledBuild(state.version);
        return;
      }
      staged = await copyInstaller(ctx, guest, facts, installer, stage);
    });
    if (nothingToInstall) {
      const what = `agent ${state.version} is already installed`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', what);
      await ctx.skip('InstallMobilityService', what);
    } else {
      await ctx.task('PrerequisiteCheck', () => checkPrerequisites(ctx, facts, installer.osTag, installDir));
      await ctx.task('InstallMobilityService', () => install(ctx, session.guest, staged, installDir));
    }
    await ctx.skip('InstallVssProvider', 'the VSS provider applies to Windows only');
    const agentDir = nothingToInstall ? (state.installDir ?? installDir) : installDir;
    const version = nothingToInstall ? (state.version as string) : installer.version;
    if (nothingToInstall && state.registered) {
      await ctx.skip('RegisterWithConfigurationServer', `agent ${state.version} is already registered with the configuration server`);
    } else {
      await ctx.task('RegisterWithConfigurationServer', () => register(ctx, session.guest, deps, stage, agentDir, version, session));
    }
    return { state: 'Succeeded', warnings: [] };
  });
}
