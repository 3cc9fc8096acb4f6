import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { memoryFinding, memoryUnknown, reportFindings, type Finding } from '../guidance.ts';
import { parseMeminfo } from './commands.ts';
import { resolveJobOsTag } from './detect-os.ts';
import { probeGuest, type GuestFacts } from './probe.ts';
import { checkPrerequisites, installDirOf, withLinuxSession } from './steps.ts';

const STAGING_MIN_KIB = 100 * 1024;

function linuxMemoryFinding(facts: GuestFacts): Finding {
  const res = facts.meminfo();
  const mem = res.code === 0 ? parseMeminfo(res.output) : null;
  return mem ? memoryFinding(mem.totalBytes, mem.availableBytes) : memoryUnknown(`cat /proc/meminfo exited ${res.code}`);
}

/** Every check a push would make, nothing copied or installed: connectivity, credentials, OS, installer, prerequisites. */
export async function readinessCheckLinux(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const installDir = installDirOf(ctx.job.request.installLocation);
  return withLinuxSession(ctx, deps, null, async (session) => {
    let installer!: SelectedInstaller;
    let facts!: GuestFacts;
    await ctx.task('ConnectivityCheck', async () => {
      await readCsSettings(deps.settings);
      const guest = await session.connect();
      // Everything both checks read, in one exec; nothing is created on the machine.
      facts = await probeGuest(guest, { freeSpace: ['/tmp', '/', installDir], agentState: false, grub: true, meminfo: true });
      const tag = resolveJobOsTag(ctx, facts);
      installer = await deps.repository.select(tag);
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      const free = await facts.freeKiB('/tmp');
      if (free < STAGING_MIN_KIB) throw new PushError(Codes.CopySpace, { path: '/tmp', freeMiB: Math.floor(free / 1024), requiredMiB: 100 });
      await ctx.note('ConnectivityCheck', `reachable over SSH with the run-as account; ${installer.file} would be pushed`);
    });
    // The documented memory share is advice: a warning, never a failure.
    const warnings = await ctx.task('PrerequisiteCheck', async () => {
      await checkPrerequisites(ctx, facts, installer.osTag, installDir);
      return reportFindings(ctx, 'PrerequisiteCheck', [linuxMemoryFinding(facts)]);
    });
    return { state: warnings.length > 0 ? 'Warning' : 'Succeeded', warnings };
  });
}
