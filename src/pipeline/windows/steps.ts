// The Windows steps the job types share (guest-contract.md, Windows), as src/pipeline/linux/steps.ts
// does for Linux: paths, the request's OS, the copy with verification, the clean-up of the staging
// folder and the session wrapper that always closes the channels and cleans up.
import { DEFAULT_WINDOWS_INSTALL_DIR, isSafeWindowsPath } from '../../domain/paths.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { resolveOsName } from '../../repository/os-mapping.ts';
import { osTagInfo } from '../../repository/os-tags.ts';
import type { JobContext } from '../context.ts';
import { withGuestSession, type GuestAccess, type GuestSession } from '../guest-session.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { logCopyProgress } from '../output.ts';
import { STAGING_PARENT } from './commands.ts';
import { connectWindowsGuest } from './connect.ts';
import { readWindows, type WindowsFacts, type WindowsReads } from './facts.ts';
import { STAGING_MIN_BYTES } from './prerequisites.ts';
import type { WindowsGuest } from './windows-guest.ts';

const MiB = 1024 * 1024;

export function windowsStagingDir(jobId: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(jobId)) throw new Error(`unexpected job id ${jobId}`);
  return `${STAGING_PARENT}\\pushinstall-${jobId}`;
}

/** The requested install folder (or the default), refused unless it is safe inside cmd.exe quotes. */
export function windowsInstallDir(requested: string | undefined): string {
  const dir = requested ?? DEFAULT_WINDOWS_INSTALL_DIR;
  if (!isSafeWindowsPath(dir)) throw new PushError(Codes.CommandFailed, { reason: `installLocation ${JSON.stringify(dir)} is not a safe absolute Windows path` });
  return dir.replace(/\\+$/, '');
}

/** The folder an installed agent lives in, as the registry says; refused unless it is a safe path. */
export function installedAgentDir(fromRegistry: string | undefined, fallback: string): string {
  if (fromRegistry === undefined) return fallback;
  if (!isSafeWindowsPath(fromRegistry)) {
    throw new PushError(Codes.CommandFailed, { reason: `the agent's install folder ${JSON.stringify(fromRegistry)} from the registry is not a safe path` });
  }
  return fromRegistry.replace(/\\+$/, '');
}

/** The request's OS, when given, must be a Windows the agent can support at all (the version is checked on the machine). */
export function checkRequestedOs(ctx: JobContext): void {
  const os = ctx.job.request.os;
  if (os.tag !== undefined && osTagInfo(os.tag)?.platform !== 'windows') {
    throw new PushError(Codes.UnsupportedOs, { osTag: os.tag }, { message: `OS tag ${os.tag} is not the Windows OS tag of the repository table.` });
  }
  if (os.name !== undefined) {
    const res = resolveOsName('windows', os.name);
    if (!res.ok && res.unsupported) throw new PushError(res.code ?? Codes.UnsupportedOs, { osName: os.name, reason: res.reason }, { message: res.reason });
  }
}

/** ≥100 MB free where the installer is copied to (95524); `facts`: a read with `stage` in freeSpace. */
export async function checkStagingSpace(facts: WindowsFacts, stage: string): Promise<number> {
  const free = await facts.freeBytes(stage);
  if (free < STAGING_MIN_BYTES) {
    throw new PushError(Codes.CopySpace, { path: stage, freeMiB: Math.floor(free / MiB), requiredMiB: STAGING_MIN_BYTES / MiB });
  }
  return free;
}

/**
 * Copies the installer into the staging folder unless the same bytes are already there (a retried job),
 * and verifies it. `before`: a read with `stage` in freeSpace. The command that hashes the installer also
 * makes `next`, the reads the checks after the copy need (made after the copy, so free space counts it);
 * returns the installer's path and those facts.
 */
export async function copyInstaller(
  ctx: JobContext, guest: WindowsGuest, installer: SelectedInstaller, stage: string, before: WindowsFacts, next: WindowsReads,
): Promise<{ remote: string; facts: WindowsFacts }> {
  await checkStagingSpace(before, stage);
  await guest.mkdirp(stage);
  const remote = `${stage}\\${installer.file}`;
  if (await guest.exists(remote)) {
    const staged = await readWindows(guest, { ...next, sha256: remote });
    if (staged.sha256() === installer.sha256) {
      await ctx.note('CopyInstaller', `copy skipped: ${installer.file} with the same SHA-256 is already on the machine`);
      ctx.log(`copy skipped: ${remote} already has SHA-256 ${installer.sha256}`);
      return { remote, facts: staged };
    }
  }
  ctx.log(`copying ${installer.file} (${installer.size} bytes) to ${remote} over ${guest.files.protocol.toUpperCase()}`);
  const copyStart = performance.now();
  await guest.put(installer.path, remote, logCopyProgress((l) => ctx.log(l)));
  ctx.copied?.(installer.size, (performance.now() - copyStart) / 1000);
  const facts = await readWindows(guest, { ...next, sha256: remote });
  const copied = facts.sha256();
  if (copied !== installer.sha256) throw new PushError(Codes.CopyCorrupt, { file: remote, expected: installer.sha256, actual: copied });
  ctx.log(`verified SHA-256 ${installer.sha256} on the machine (certutil)`);
  return { remote, facts };
}

/** How a job reaches a Windows guest (SMB for files, WinRM or OpenSSH for commands), for the shared session and clean-up logic. */
export function windowsAccess(ctx: JobContext, deps: PipelineDeps): GuestAccess<WindowsGuest> {
  return {
    connect: (signal) => connectWindowsGuest(ctx, deps, signal ?? ctx.signal),
    removeTree: (guest, p) => guest.removeTree(p),
    close: (guest) => guest.close(),
    cleanupTimeoutMs: deps.settings.connectTimeoutMs * 2,
  };
}

export type WindowsSession = GuestSession<WindowsGuest>;

/** withGuestSession for a Windows guest. */
export function withWindowsSession<T>(ctx: JobContext, deps: PipelineDeps, stage: string | null, body: (session: WindowsSession) => Promise<T>): Promise<T> {
  return withGuestSession(ctx, windowsAccess(ctx, deps), stage, body);
}
