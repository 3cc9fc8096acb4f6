import { Codes } from '../../errors/catalogue.ts';
import type { JobError } from '../../domain/job.ts';
import { PushError } from '../../errors/push-error.ts';
import type { JobContext } from '../context.ts';
import type { SelectedInstaller } from '../deps.ts';
import { newNonce, tail } from '../output.ts';
import { INSTALLER_LOG, windowsCommands } from './commands.ts';
import { isVssExitCode, vssError, vssFailureIsWarning } from './vss.ts';
import type { WindowsGuest } from './windows-guest.ts';

/** Windows logs are often UTF-16LE with a BOM; anything else is read as UTF-8. */
export function decodeLog(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

/** The last lines of a log on the guest, redacted; a missing log says so instead of failing. */
export async function readLogTail(guest: WindowsGuest, path: string, lines = 50): Promise<string> {
  try {
    if (!(await guest.exists(path))) return `(no log at ${path})`;
    return tail(decodeLog(await guest.readFile(path)).replace(/\r\n/g, '\n'), lines);
  } catch (e) {
    return `(could not read ${path}: ${(e as Error).message})`;
  }
}

export interface InstallOutcome {
  exitCode: number;
  /** 3010: installed, a reboot loads the filter driver (95265). */
  rebootRequired: boolean;
  /** 511/512/517/806/802: the agent is installed but the VSS provider is not (99015). */
  vssFailure?: PushError;
}

/**
 * Extracts the installer, `"<stage>\<file>.exe" /q /x:"<stage>\Extracted"` (guest-contract.md, Windows
 * step 4), and runs `"<stage>\Extracted\UnifiedAgent.exe" /Role "MS" …` (step 5): one command line whose
 * `&&` stops at the extraction when it fails, and prints a marker between the two when it does not. No
 * marker: the line's exit code is the extraction's, 99013. Then UnifiedAgent.exe's exit code: 0 installed;
 * 3010 installed, reboot pending; the VSS codes: agent installed, VSS provider failed (what that means for
 * the job depends on the agent version, decided by the caller); anything else: 99013 when UnifiedAgent.exe
 * is not in the extracted folder (cmd.exe could not run it), else 99003 with the tail of the installer
 * log, read over the file channel.
 */
export async function extractAndInstall(
  ctx: JobContext, guest: WindowsGuest, installerPath: string, extracted: string, installDir: string, agentVersion: string,
): Promise<InstallOutcome> {
  await guest.removeTree(extracted); // a previous attempt may have left a partial extraction
  const marker = `${newNonce()} extracted`;
  const res = await guest.run(windowsCommands.extractAndInstall(installerPath, extracted, installDir, marker));
  const lines = res.stdout.split(/\r?\n/);
  const at = lines.findIndex((l) => l.trimEnd() === marker);
  if (at < 0 && res.code === 0) {
    throw new PushError(Codes.CommandFailed, { what: 'extract and install', reason: 'the command line exited 0 without the marker that ends the extraction', stdout: tail(res.stdout, 20) });
  }
  if (at < 0) {
    throw new PushError(Codes.ExtractFailed, { exitCode: res.code, stdout: tail(res.stdout, 20), stderr: tail(res.stderr, 20) },
      { message: `The installer package could not be extracted on the machine (exit code ${res.code}).` });
  }
  ctx.log(`extracted the installer into ${extracted}`);
  const installer = { code: res.code, stdout: lines.slice(at + 1).join('\n'), stderr: res.stderr };
  return installOutcome(ctx, guest, installer, { extracted, extractOutput: lines.slice(0, at).join('\n'), installDir, agentVersion });
}

async function installOutcome(
  ctx: JobContext, guest: WindowsGuest, res: { code: number | null; stdout: string; stderr: string },
  o: { extracted: string; extractOutput: string; installDir: string; agentVersion: string },
): Promise<InstallOutcome> {
  const { installDir } = o;
  if (res.code === 0) {
    ctx.log(`installed the Mobility Service and the VSS provider in ${installDir}`);
    return { exitCode: 0, rebootRequired: false };
  }
  if (res.code === 3010) {
    ctx.log(`installed the Mobility Service in ${installDir}; the installer asks for a reboot (3010)`);
    return { exitCode: 3010, rebootRequired: true };
  }
  if (isVssExitCode(res.code)) {
    ctx.log(`installed the Mobility Service in ${installDir}, but the VSS provider failed (exit code ${res.code})`);
    return { exitCode: res.code, rebootRequired: false, vssFailure: vssError(res.code, o.agentVersion, installDir) };
  }
  // When the file channel cannot tell, the installer's failure is what is reported.
  if (!(await guest.exists(`${o.extracted}\\UnifiedAgent.exe`).catch(() => true))) {
    throw new PushError(Codes.ExtractFailed, { reason: `UnifiedAgent.exe is not in ${o.extracted} after extraction`, stdout: tail(o.extractOutput, 20) });
  }
  const logTail = await readLogTail(guest, INSTALLER_LOG);
  throw new PushError(Codes.InstallFailed, {
    exitCode: res.code,
    installerLog: INSTALLER_LOG,
    installerLogTail: logTail,
    stdout: tail(res.stdout, 20),
    stderr: tail(res.stderr, 20),
  }, { message: `The Mobility Service installer failed with exit code ${res.code}.` });
}

/** Which task runs the installer, and what its exit codes mean there (enable: install; update: update). */
export interface InstallStep {
  task: 'InstallMobilityService' | 'UpdateMobilityService';
  /** 3010: 95265 after an install, 95266 after an update. */
  rebootCode: typeof Codes.RebootRequired | typeof Codes.RebootRequiredUpdate;
  /** "installed" or "updated", for the task messages. */
  verb: string;
}

export const INSTALL_STEP: InstallStep = { task: 'InstallMobilityService', rebootCode: Codes.RebootRequired, verb: 'installed' };
export const UPDATE_STEP: InstallStep = { task: 'UpdateMobilityService', rebootCode: Codes.RebootRequiredUpdate, verb: 'updated' };

/**
 * Extracts and runs the installer in the step's task and applies the exit-code rules to it and to the
 * InstallVssProvider task (guest-contract.md, Windows step 5): 3010 ends the step Warning (reboot);
 * a VSS code with agent ≥ 9.23 fails the VSS task only (a job-level warning); with agent ≤ 9.22 it fails
 * the step, the VSS task and the job. Returns the outcome and the job-level warnings.
 */
export async function installAgent(
  ctx: JobContext, guest: WindowsGuest, installer: SelectedInstaller, remote: string, stage: string, installDir: string, step: InstallStep = INSTALL_STEP,
): Promise<{ outcome: InstallOutcome; warnings: JobError[] }> {
  const warnings: JobError[] = [];
  let outcome: InstallOutcome | undefined;
  try {
    await ctx.task(step.task, async () => {
      outcome = await extractAndInstall(ctx, guest, remote, `${stage}\\Extracted`, installDir, installer.version);
      // Agent 9.22 and earlier: a VSS provider failure fails the agent install, and so the job.
      if (outcome.vssFailure && !vssFailureIsWarning(installer.version)) throw outcome.vssFailure;
      if (outcome.rebootRequired) {
        const reboot = new PushError(step.rebootCode, { exitCode: outcome.exitCode }).toJobError();
        warnings.push(reboot);
        await ctx.endTask(step.task, 'Warning', reboot, `${step.verb}; a reboot is required to load the filter driver`);
      }
      if (outcome.vssFailure) await ctx.note(step.task, `agent ${step.verb}; the VSS provider failed (installer exit code ${outcome.exitCode})`);
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
    await ctx.endTask('InstallVssProvider', 'Failed', err, `the agent is ${step.verb}; install the VSS provider manually (see the recommended action)`);
  } else {
    await ctx.endTask('InstallVssProvider', 'Succeeded', undefined, `${step.verb} with the agent by UnifiedAgent.exe`);
  }
  return { outcome: done, warnings };
}
