import type { JobError } from '../../domain/job.ts';
import { compareReleases } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import type { WindowsAgentState } from './agent-state.ts';
import { readWindows, type WindowsFacts } from './facts.ts';
import { installAgent } from './install.ts';
import { checkWindowsPrerequisites } from './prerequisites.ts';
import { registerWindowsAgent } from './register.ts';
import { checkRequestedOs, copyInstaller, installedAgentDir, windowsInstallDir, windowsStagingDir, withWindowsSession } from './steps.ts';

/**
 * Enable replication on a Windows guest (guest-contract.md, Windows): SMB session and remote shell,
 * copy, prerequisites, extract and install with the exit-code rules (3010 and VSS on ≥ 9.23 end the job
 * Warning; VSS on ≤ 9.22 fails it), register, verify through the registry, clean the staging folder.
 */
export async function enableReplicationWindows(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const stage = windowsStagingDir(ctx.job.id);
  const installDir = windowsInstallDir(ctx.job.request.installLocation);
  await readCsSettings(deps.settings); // fail before touching the guest when registration cannot work
  checkRequestedOs(ctx);
  return withWindowsSession(ctx, deps, stage, async (session) => {
    let installer!: SelectedInstaller;
    let state!: WindowsAgentState;
    let facts!: WindowsFacts;
    let remote = '';
    let nothingToInstall = false;
    const warnings: JobError[] = [];
    await ctx.task('CopyInstaller', async () => {
      const guest = await session.connect();
      installer = await deps.repository.select('Windows');
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      ctx.log(`selected ${installer.file} (agent ${installer.version}, SHA-256 ${installer.sha256})`);
      const before = await readWindows(guest, { agentState: true, freeSpace: [stage] });
      state = before.agentState();
      if (state.installed) ctx.log(`agent ${state.version ?? '(unknown version)'} is installed${state.registered ? ' and registered' : ', not registered'}`);
      if (state.installed && state.version && compareReleases(state.version, installer.version) >= 0) {
        nothingToInstall = true;
        await ctx.setInstalledBuild(state.version);
        return;
      }
      // The command that verifies the copy also reads what the prerequisite check needs.
      ({ remote, facts } = await copyInstaller(ctx, guest, installer, stage, before, { prerequisites: true, freeSpace: [installDir] }));
    });
    const g = session.guest;
    if (nothingToInstall) {
      const what = `agent ${state.version} is already installed`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', what);
      await ctx.skip('InstallMobilityService', what);
      await ctx.skip('InstallVssProvider', what);
    } else {
      await ctx.task('PrerequisiteCheck', () => checkWindowsPrerequisites(ctx, facts, installer, installDir, g.account));
      warnings.push(...(await installAgent(ctx, g, installer, remote, stage, installDir)).warnings);
    }
    const version = nothingToInstall ? (state.version as string) : installer.version;
    if (nothingToInstall && state.registered) {
      await ctx.skip('RegisterWithConfigurationServer', `agent ${state.version} is already registered with the configuration server`);
    } else {
      await ctx.task('RegisterWithConfigurationServer', async () => {
        const agentDir = nothingToInstall ? installedAgentDir(state.installDir, installDir) : installDir;
        await registerWindowsAgent(ctx, g, deps, stage, agentDir, version);
      });
    }
    return { state: warnings.length > 0 ? 'Warning' : 'Succeeded', warnings };
  });
}
