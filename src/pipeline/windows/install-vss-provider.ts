import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import type { PipelineDeps } from '../deps.ts';
import { tail } from '../output.ts';
import { readWindowsAgentState } from './facts.ts';
import { agentDir, windowsCommands } from './commands.ts';
import { installedAgentDir, windowsInstallDir, withWindowsSession } from './steps.ts';
import { vssError } from './vss.ts';
import type { WindowsGuest } from './windows-guest.ts';

export const VSS_INSTALL_SCRIPT = 'InMageVSSProvider_Install.cmd';

/** The scripts must be in the agent folder; checked over the file channel when it reaches that folder (SMB: C: only). */
async function checkScripts(guest: WindowsGuest, folder: string): Promise<void> {
  if (!guest.files.reaches(folder)) return;
  const script = `${folder}\\${VSS_INSTALL_SCRIPT}`;
  if (!(await guest.exists(script))) {
    throw new PushError(Codes.CommandFailed, { reason: `${script} is not on the machine: the agent installation is incomplete`, folder },
      { message: `The VSS provider scripts are missing from ${folder}; reinstall the Mobility Service.` });
  }
}

/**
 * The manual VSS provider install (asr-facts.md §7, guest-contract.md "manual VSS provider install"):
 * in `<installDir>\agent`, InMageVSSProvider_Uninstall.cmd, then InMageVSSProvider_Install.cmd. Exit 0
 * of the install script: Succeeded; anything else: 99015 with that exit code's cause. The agent must be
 * installed (99021); its folder comes from the registry.
 */
export async function installVssProviderWindows(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const requestedDir = windowsInstallDir(ctx.job.request.installLocation);
  return withWindowsSession(ctx, deps, null, async (session) => {
    await ctx.task('InstallVssProvider', async () => {
      const guest = await session.connect();
      const state = await readWindowsAgentState(guest);
      if (!state.installed) throw new PushError(Codes.AgentNotInstalled, { machine: ctx.job.machine.address });
      if (!state.installDir) ctx.log(`the registry does not name the agent's folder; using ${requestedDir}`);
      const dir = installedAgentDir(state.installDir, requestedDir);
      const folder = agentDir(dir);
      await checkScripts(guest, folder);
      const removed = await guest.run(windowsCommands.vssUninstall(dir));
      if (removed.code !== 0) ctx.log(`InMageVSSProvider_Uninstall.cmd exited with ${removed.code} (no provider to remove, or a half-installed one); installing anyway`);
      const res = await guest.run(windowsCommands.vssInstall(dir));
      if (res.code !== 0) {
        const err = vssError(res.code, state.version ?? 'unknown', dir, 'script');
        err.details.output = tail(`${res.stdout}\n${res.stderr}`, 20);
        if (removed.code !== 0) err.details.uninstallExitCode = removed.code;
        throw err;
      }
      ctx.log(`installed the VSS provider from ${folder}`);
      await ctx.note('InstallVssProvider', `VSS provider installed for agent ${state.version ?? '(unknown version)'} (InMageVSSProvider_Uninstall.cmd, then InMageVSSProvider_Install.cmd)`);
    });
    return { state: 'Succeeded', warnings: [] };
  });
}
