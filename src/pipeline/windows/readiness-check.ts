import { compareReleases } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { STAGING_PARENT } from './commands.ts';
import { reportFindings } from '../guidance.ts';
import { readWindows, type WindowsFacts } from './facts.ts';
import { defenderExclusionFinding, windowsMemoryFinding } from './guidance.ts';
import { checkWindowsPrerequisites } from './prerequisites.ts';
import { checkRequestedOs, checkStagingSpace, windowsInstallDir, withWindowsSession } from './steps.ts';
import type { WindowsGuest } from './windows-guest.ts';

const CHANNELS: Record<WindowsGuest['transport'], string> = {
  'winrm-http': 'SMB and WinRM (HTTP)',
  'winrm-https': 'SMB and WinRM (HTTPS)',
  ssh: 'OpenSSH (commands and SFTP)',
};

/**
 * Every check a Windows push makes, nothing copied or installed: the configuration server settings, the
 * request's OS, the SMB session and the remote shell (logon, a command run), the installer that would be
 * pushed, 100 MB free for the copy (ConnectivityCheck); administrator, 64-bit, Windows version against
 * that installer, 500 MB on the install volume (PrerequisiteCheck); and as warnings only, the documented
 * advice: the agent folder excluded from Microsoft Defender, at least 10% of memory available.
 */
export async function readinessCheckWindows(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const installDir = windowsInstallDir(ctx.job.request.installLocation);
  return withWindowsSession(ctx, deps, null, async (session) => {
    let installer!: SelectedInstaller;
    let facts!: WindowsFacts;
    await ctx.task('ConnectivityCheck', async () => {
      await readCsSettings(deps.settings);
      checkRequestedOs(ctx);
      const guest = await session.connect();
      // Everything both tasks read, in one command (which also proves that commands run); checked below in order.
      facts = await readWindows(guest, { agentState: true, prerequisites: true, guidance: true, freeSpace: [STAGING_PARENT, installDir] });
      const state = facts.agentState();
      installer = await deps.repository.select('Windows');
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      await checkStagingSpace(facts, STAGING_PARENT);
      let agent = '';
      if (state.installed) {
        const current = state.version !== undefined && compareReleases(state.version, installer.version) >= 0;
        agent = `; agent ${state.version ?? '(unknown version)'} is installed${state.registered ? ' and registered' : ''}${current ? ', so a push would install nothing' : ''}`;
      }
      await ctx.note('ConnectivityCheck', `reachable over ${CHANNELS[guest.transport]} as ${guest.account}; ${installer.file} would be pushed${agent}`);
    });
    const warnings = await ctx.task('PrerequisiteCheck', async () => {
      await checkWindowsPrerequisites(ctx, facts, installer, installDir, session.guest.account);
      return reportFindings(ctx, 'PrerequisiteCheck', [defenderExclusionFinding(facts.defenderExclusions()), windowsMemoryFinding(facts.memory())]);
    });
    return { state: warnings.length > 0 ? 'Warning' : 'Succeeded', warnings };
  });
}
