import { Codes } from '../../errors/catalogue.ts';
import { PushError, type JobError } from '../../errors/push-error.ts';
import { resolveOsName } from '../../repository/os-mapping.ts';
import { osTagInfo } from '../../repository/os-tags.ts';
import { compareVersions } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { DEFAULT_WINDOWS_INSTALL_DIR, isSafeWindowsPath } from '../windows-paths.ts';
import { readWindowsAgentState, type WindowsAgentState } from './agent-state.ts';
import { parseCertutilSha256, STAGING_PARENT, windowsCommands } from './commands.ts';
import { connectWindowsGuest } from './connect.ts';
import { extractInstaller, runUnifiedAgent, type InstallOutcome } from './install.ts';
import { checkWindowsPrerequisites, STAGING_MIN_BYTES } from './prerequisites.ts';
import { registerWindowsAgent } from './register.ts';
import { vssFailureIsWarning } from './vss.ts';
import type { WindowsGuest } from './windows-guest.ts';

const MiB = 1024 * 1024;

export function windowsStagingDir(jobId: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(jobId)) throw new Error(`unexpected job id ${jobId}`);
  return `${STAGING_PARENT}\\pushinstall-${jobId}`;
}

export function windowsInstallDir(requested: string | undefined): string {
  const dir = requested ?? DEFAULT_WINDOWS_INSTALL_DIR;
  if (!isSafeWindowsPath(dir)) throw new PushError(Codes.CommandFailed, { reason: `installLocation ${JSON.stringify(dir)} is not a safe absolute Windows path` });
  return dir.replace(/\\+$/, '');
}

/** The request's OS, when given, must be a Windows the agent can support at all (the version is checked on the machine). */
function checkRequestedOs(ctx: JobContext): void {
  const os = ctx.job.request.os;
  if (os.tag !== undefined && osTagInfo(os.tag)?.platform !== 'windows') {
    throw new PushError(Codes.UnsupportedOs, { osTag: os.tag }, { message: `OS tag ${os.tag} is not the Windows OS tag of the repository table.` });
  }
  if (os.name !== undefined) {
    const res = resolveOsName('windows', os.name);
    if (!res.ok && res.unsupported) throw new PushError(res.code ?? Codes.UnsupportedOs, { osName: os.name, reason: res.reason }, { message: res.reason });
  }
}

async function sha256OnGuest(guest: WindowsGuest, file: string): Promise<string | null> {
  const res = await guest.run(windowsCommands.sha256(file));
  return res.code === 0 ? parseCertutilSha256(res.stdout) : null;
}

/** Copies the installer into the staging folder unless the same bytes are already there (a retried job). */
async function copyInstaller(ctx: JobContext, guest: WindowsGuest, installer: SelectedInstaller, stage: string): Promise<string> {
  const free = await guest.files.freeBytes(stage);
  if (free < STAGING_MIN_BYTES) {
    throw new PushError(Codes.CopySpace, { path: stage, freeMiB: Math.floor(free / MiB), requiredMiB: STAGING_MIN_BYTES / MiB });
  }
  await guest.files.mkdirp(stage);
  const remote = `${stage}\\${installer.file}`;
  if (await guest.files.exists(remote) && (await sha256OnGuest(guest, remote)) === installer.sha256) {
    await ctx.note('CopyInstaller', `copy skipped: ${installer.file} with the same SHA-256 is already on the machine`);
    ctx.log(`copy skipped: ${remote} already has SHA-256 ${installer.sha256}`);
    return remote;
  }
  ctx.log(`copying ${installer.file} (${installer.size} bytes) to ${remote} over ${guest.files.kind.toUpperCase()}`);
  let lastLogged = 0;
  await guest.files.put(installer.path, remote, (done, total) => {
    if (done - lastLogged >= 64 * MiB || done === total) {
      lastLogged = done;
      ctx.log(`copied ${done} of ${total} bytes`);
    }
  });
  const copied = await sha256OnGuest(guest, remote);
  if (copied !== installer.sha256) throw new PushError(Codes.CopyCorrupt, { file: remote, expected: installer.sha256, actual: copied });
  ctx.log(`verified SHA-256 ${installer.sha256} on the machine (certutil)`);
  return remote;
}

/** Runs the installer and applies the exit-code rules to the install and VSS tasks; returns job-level warnings. */
async function installAgent(ctx: JobContext, guest: WindowsGuest, installer: SelectedInstaller, remote: string, stage: string, installDir: string): Promise<JobError[]> {
  const warnings: JobError[] = [];
  let outcome: InstallOutcome | undefined;
  try {
    await ctx.task('InstallMobilityService', async () => {
      await extractInstaller(ctx, guest, remote, `${stage}\\Extracted`);
      outcome = await runUnifiedAgent(ctx, guest, `${stage}\\Extracted`, installDir, installer.version);
      // Agent 9.22 and earlier: a VSS provider failure fails the agent install, and so the job.
      if (outcome.vssFailure && !vssFailureIsWarning(installer.version)) throw outcome.vssFailure;
      if (outcome.rebootRequired) {
        const reboot = new PushError(Codes.RebootRequired, { exitCode: outcome.exitCode }).toJobError();
        warnings.push(reboot);
        await ctx.endTask('InstallMobilityService', 'Warning', reboot, 'installed; a reboot is required to load the filter driver');
      }
      if (outcome.vssFailure) await ctx.note('InstallMobilityService', `agent installed; the VSS provider failed (installer exit code ${outcome.exitCode})`);
    });
  } catch (e) {
    if (outcome?.vssFailure && e === outcome.vssFailure) {
      await ctx.endTask('InstallVssProvider', 'Failed', outcome.vssFailure.toJobError(), `agent ${installer.version} (9.22 and earlier) fails the install when the VSS provider fails`);
    }
    throw e;
  }
  const done = outcome as InstallOutcome;
  if (done.vssFailure) {
    const err = done.vssFailure.toJobError();
    warnings.push(err);
    await ctx.endTask('InstallVssProvider', 'Failed', err, 'the agent is installed; install the VSS provider manually (see the recommended action)');
  } else {
    await ctx.endTask('InstallVssProvider', 'Succeeded', undefined, 'installed with the agent by UnifiedAgent.exe');
  }
  return warnings;
}

/**
 * Removes the staging folder. When the job's channels are gone (a cancel, a dropped connection), it
 * cleans up over fresh ones that are not bound to the job's signal.
 */
async function cleanUp(ctx: JobContext, deps: PipelineDeps, guest: WindowsGuest | undefined, stage: string): Promise<void> {
  if (!guest) return; // never connected: nothing was created on the machine
  if (!ctx.signal.aborted) {
    try {
      await guest.files.deleteTree(stage);
      ctx.log(`removed ${stage}`);
      return;
    } catch (e) {
      ctx.log(`removing ${stage} over the job's connection failed (${(e as Error).message}); trying a new connection`);
    }
  }
  try {
    const fresh = await connectWindowsGuest(ctx, deps, AbortSignal.timeout(deps.settings.connectTimeoutMs * 2));
    try { await fresh.files.deleteTree(stage); } finally { await fresh.close(); }
    ctx.log(`removed ${stage}`);
  } catch (e) {
    ctx.log(`could not remove the staging folder ${stage}: ${(e as Error).message}`);
  }
}

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
  let guest: WindowsGuest | undefined;
  try {
    let installer!: SelectedInstaller;
    let state!: WindowsAgentState;
    let remote = '';
    let nothingToInstall = false;
    const warnings: JobError[] = [];
    await ctx.task('CopyInstaller', async () => {
      guest = await connectWindowsGuest(ctx, deps);
      installer = await deps.repository.select('Windows');
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      ctx.log(`selected ${installer.file} (agent ${installer.version}, SHA-256 ${installer.sha256})`);
      state = await readWindowsAgentState(guest);
      if (state.installed) ctx.log(`agent ${state.version ?? '(unknown version)'} is installed${state.registered ? ' and registered' : ', not registered'}`);
      if (state.installed && state.version && compareVersions(state.version, installer.version) >= 0) {
        nothingToInstall = true;
        return;
      }
      remote = await copyInstaller(ctx, guest, installer, stage);
    });
    const g = guest as unknown as WindowsGuest;
    if (nothingToInstall) {
      const what = `agent ${state.version} is already installed`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', what);
      await ctx.skip('InstallMobilityService', what);
      await ctx.skip('InstallVssProvider', what);
    } else {
      const account = await deps.accounts.forConnection(ctx.job.runAsAccountId);
      await ctx.task('PrerequisiteCheck', () => checkWindowsPrerequisites(ctx, g, installer, installDir, `${account.domain ?? '.'}\\${account.username}`));
      warnings.push(...(await installAgent(ctx, g, installer, remote, stage, installDir)));
    }
    const agentDir = nothingToInstall ? (state.installDir ?? installDir) : installDir;
    const version = nothingToInstall ? (state.version as string) : installer.version;
    if (nothingToInstall && state.registered) {
      await ctx.skip('RegisterWithConfigurationServer', `agent ${state.version} is already registered with the configuration server`);
    } else {
      await ctx.task('RegisterWithConfigurationServer', async () => {
        if (!isSafeWindowsPath(agentDir)) throw new PushError(Codes.CommandFailed, { reason: `the agent's install folder ${JSON.stringify(agentDir)} from the registry is not a safe path` });
        await registerWindowsAgent(ctx, g, deps, stage, agentDir, version);
      });
    }
    await cleanUp(ctx, deps, guest, stage);
    return { state: warnings.length > 0 ? 'Warning' : 'Succeeded', warnings };
  } catch (e) {
    if (ctx.willRetry(e)) ctx.log(`keeping ${stage} for the next attempt (the copy will be skipped if the installer is intact)`);
    else await cleanUp(ctx, deps, guest, stage);
    throw e;
  } finally {
    await (guest as WindowsGuest | undefined)?.close();
  }
}
