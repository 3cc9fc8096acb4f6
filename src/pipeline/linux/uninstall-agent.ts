import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import type { PipelineDeps } from '../deps.ts';
import { linuxCommands } from './commands.ts';
import { tail } from '../output.ts';
import { installDirOf, readAgentState, withLinuxSession } from './steps.ts';

/** Uninstall on a Linux guest: `<dir>/uninstall.sh -Y` as root (asr-facts.md §7), then check it is gone. */
export async function uninstallAgentLinux(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  return withLinuxSession(ctx, deps, null, async (session) => {
    let notInstalled = false;
    await ctx.task('UninstallMobilityService', async () => {
      const guest = await session.connect();
      const state = await readAgentState(guest);
      if (!state.installed) { notInstalled = true; return; }
      const dir = installDirOf(state.installDir);
      const res = await guest.run(linuxCommands.uninstall(dir), { privileged: true });
      if (res.code !== 0) {
        throw new PushError(Codes.CommandFailed, { what: `${dir}/uninstall.sh -Y`, exitCode: res.code, output: tail(`${res.stdout}\n${res.stderr}`, 20) },
          { message: `The Mobility Service uninstaller failed with exit code ${res.code}.` });
      }
      if ((await readAgentState(guest)).installed) throw new PushError(Codes.VerifyFailed, { reason: '/usr/local/.vx_version is still there after uninstall.sh' });
      ctx.log(`uninstalled agent ${state.version} from ${dir}`);
    });
    if (notInstalled) await ctx.skip('UninstallMobilityService', 'the Mobility Service is not installed on the machine');
    return { state: 'Succeeded', warnings: [] };
  });
}
