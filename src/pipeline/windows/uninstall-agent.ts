import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import type { PipelineDeps } from '../deps.ts';
import { tail } from '../output.ts';
import { readWindowsAgentState } from './facts.ts';
import { UNINSTALL_LOG, windowsCommands } from './commands.ts';
import { readLogTail } from './install.ts';
import { withWindowsSession } from './steps.ts';

/** MsiExec exit codes that mean "removed": 0, and 3010 / 1641 (removed, a reboot finishes it). */
const REBOOT_EXIT_CODES = new Set([3010, 1641]);

/**
 * Uninstall on a Windows guest (asr-facts.md §7): `MsiExec.exe /qn /x {275197FC-…} /L+*V "<log>"`, then
 * the registry must no longer show the MSI's Uninstall key (99014). Not installed: the task is Skipped
 * and the job succeeds. Any other exit: 99020 with the exit code and the tail of the uninstall log.
 */
export async function uninstallAgentWindows(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  return withWindowsSession(ctx, deps, null, async (session) => {
    let notInstalled = false;
    await ctx.task('UninstallMobilityService', async () => {
      const guest = await session.connect();
      const state = await readWindowsAgentState(guest);
      if (!state.installed) { notInstalled = true; return; }
      const command = windowsCommands.uninstall();
      const res = await guest.run(command);
      if (res.code !== 0 && !REBOOT_EXIT_CODES.has(res.code as number)) {
        throw new PushError(Codes.CommandFailed, {
          what: command,
          exitCode: res.code,
          output: tail(`${res.stdout}\n${res.stderr}`, 20),
          uninstallLog: UNINSTALL_LOG,
          uninstallLogTail: await readLogTail(guest, UNINSTALL_LOG),
        }, { message: `The Mobility Service uninstaller (MsiExec) failed with exit code ${res.code}.` });
      }
      const after = await readWindowsAgentState(guest);
      if (after.installed) {
        throw new PushError(Codes.VerifyFailed, { reason: `${after.uninstallKey} is still in the registry after MsiExec exited with ${res.code}` });
      }
      ctx.log(`uninstalled agent ${state.version ?? '(unknown version)'}${state.installDir ? ` from ${state.installDir}` : ''}; the registry no longer lists it`);
      if (res.code !== 0) await ctx.note('UninstallMobilityService', `uninstalled; MsiExec exited with ${res.code}: a reboot finishes the removal`);
    });
    if (notInstalled) await ctx.skip('UninstallMobilityService', 'the Mobility Service is not installed on the machine');
    return { state: 'Succeeded', warnings: [] };
  });
}
