// The Linux steps every job type is built from (guest-contract.md, Linux), each one small and
// reused: agent state, copy with verification, prerequisites, install, register + verify, clean-up.
import { Codes } from '../../errors/catalogue.ts';
import { DEFAULT_LINUX_INSTALL_DIR, isSafeAbsolutePath } from '../../domain/paths.ts';
import { PushError } from '../../errors/push-error.ts';
import { sameRelease } from '../../repository/versions.ts';
import type { JobContext } from '../context.ts';
import { withGuestSession, type GuestAccess, type GuestSession } from '../guest-session.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { connectLinuxGuest } from './connect.ts';
import {
  grubDeviceNameLines, linuxCommands, parseDfAvailableKiB, parseMarkedFiles, parseVxVersion,
} from './commands.ts';
import { detectGuestOs } from './detect-os.ts';
import { logCopyProgress, tail } from '../output.ts';
import type { LinuxGuest } from './linux-guest.ts';

const MiB = 1024;
const STAGING_MIN_KIB = 100 * MiB;
const ROOT_MIN_KIB = 2048 * MiB;
const INSTALL_DIR_MIN_KIB = 250 * MiB;

export function stagingDir(jobId: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(jobId)) throw new Error(`unexpected job id ${jobId}`);
  return `/tmp/pushinstall-${jobId}`;
}

/** Where a long guest command of the job records its pid while it runs (see linuxCommands.marked). */
function runningMarker(stage: string): string {
  return `${stage}/running.pid`;
}

/**
 * Before anything else on the guest: when an earlier attempt of this job was handed back while its
 * installer or configurator ran, that command may still run there; wait for it to end (bounded by the
 * step timeout), so two never run at once and this attempt sees what it did.
 */
export async function waitForEarlierCommand(ctx: JobContext, guest: LinuxGuest, stage: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const out = (await guest.run(linuxCommands.waitForMarked(runningMarker(stage), 20), { privileged: true, label: `wait for a command an earlier attempt started (${runningMarker(stage)})` })).stdout.trim();
    const [what, pid] = out.split(/\s+/);
    if (what !== 'running') {
      if (what === 'ended') ctx.log(`the command an earlier attempt started (pid ${pid}) has ended, after ${Math.round((Date.now() - started) / 1000)} s of waiting`);
      return;
    }
    ctx.log(`a command an earlier attempt started (pid ${pid}) still runs on the guest: waiting for it to end`);
    if (Date.now() - started > timeoutMs) throw new PushError(Codes.Timeout, { phase: 'exec', reason: `the command an earlier attempt started (pid ${pid}) did not end`, timeoutMs });
  }
}

export function installDirOf(requested: string | undefined): string {
  const dir = requested ?? DEFAULT_LINUX_INSTALL_DIR;
  if (!isSafeAbsolutePath(dir)) throw new PushError(Codes.CommandFailed, { reason: `installLocation ${JSON.stringify(dir)} is not a safe absolute path` });
  return dir.replace(/\/+$/, '') || '/';
}

export interface AgentState { installed: boolean; version?: string; registered: boolean; installDir?: string }

export async function readAgentState(guest: LinuxGuest): Promise<AgentState> {
  const text = (await guest.run(linuxCommands.agentState(), { privileged: true })).stdout;
  if (text.trim() === '') return { installed: false, registered: false };
  const kv = parseVxVersion(text);
  const state: AgentState = { installed: true, registered: kv.AGENT_CONFIGURATION_STATUS === 'Succeeded' };
  if (kv.VERSION) state.version = kv.VERSION;
  if (kv.INSTALLATION_DIR) state.installDir = kv.INSTALLATION_DIR;
  return state;
}

export async function freeKiB(guest: LinuxGuest, p: string): Promise<number> {
  const out = await guest.must(linuxCommands.freeKiB(p), { what: `free space of ${p}`, privileged: true });
  const kib = parseDfAvailableKiB(out.trim().split('\n').pop() ?? '');
  if (kib === null) throw new PushError(Codes.CommandFailed, { what: `free space of ${p}`, output: tail(out, 5) });
  return kib;
}

/** Copies the installer into the staging folder unless the same bytes are already there (a retried job). */
export async function copyInstaller(ctx: JobContext, guest: LinuxGuest, installer: SelectedInstaller, stage: string): Promise<string> {
  const out = (await guest.must(linuxCommands.makeStage(stage), { what: 'create the staging folder' })).trim().split(/\s+/);
  if (out[1] !== '700') throw new PushError(Codes.CommandFailed, { reason: `staging folder ${stage} has mode ${out[1]}, expected 700` });
  const uid = (await guest.must(linuxCommands.whoami())).trim();
  if (out[0] !== uid) throw new PushError(Codes.CommandFailed, { reason: `staging folder ${stage} is owned by uid ${out[0]}, not by the run-as account (uid ${uid})` });

  const free = await freeKiB(guest, stage);
  if (free < STAGING_MIN_KIB) {
    throw new PushError(Codes.CopySpace, { path: stage, freeMiB: Math.floor(free / MiB), requiredMiB: STAGING_MIN_KIB / MiB });
  }
  const remote = `${stage}/${installer.file}`;
  const existing = (await guest.run(linuxCommands.sha256(remote))).stdout.trim().split(/\s+/)[0];
  if (existing === installer.sha256) {
    await ctx.note('CopyInstaller', `copy skipped: ${installer.file} with the same SHA-256 is already on the machine`);
    ctx.log(`copy skipped: ${remote} already has SHA-256 ${installer.sha256}`);
    return remote;
  }
  ctx.log(`copying ${installer.file} (${installer.size} bytes) to ${remote}`);
  const copyStart = performance.now();
  await guest.put(installer.path, remote, logCopyProgress((l) => ctx.log(l)));
  ctx.copied?.(installer.size, (performance.now() - copyStart) / 1000);
  const copied = (await guest.run(linuxCommands.sha256(remote))).stdout.trim().split(/\s+/)[0];
  if (copied !== installer.sha256) {
    throw new PushError(Codes.CopyCorrupt, { file: remote, expected: installer.sha256, actual: copied ?? null });
  }
  ctx.log(`verified SHA-256 ${installer.sha256} on the machine`);
  return remote;
}

export async function checkPrerequisites(ctx: JobContext, guest: LinuxGuest, installerTag: string, installDir: string): Promise<void> {
  const arch = (await guest.must(linuxCommands.uname(), { what: 'uname -m' })).trim();
  if (arch !== 'x86_64') throw new PushError(Codes.UnsupportedArch, { machine: arch });

  const detected = await detectGuestOs(guest);
  if (detected.ok && detected.tag !== installerTag) {
    throw new PushError(Codes.OsMismatch, { installerOsTag: installerTag, machineOsTag: detected.tag, machineOs: detected.description });
  }
  if (!detected.ok) ctx.log(`could not confirm the OS on the machine (${detected.reason}); trusting the request's OS ${installerTag}`);

  const rootFree = await freeKiB(guest, '/');
  if (rootFree < ROOT_MIN_KIB) {
    throw new PushError(Codes.InstallSpace, { path: '/', freeMiB: Math.floor(rootFree / MiB), requiredMiB: ROOT_MIN_KIB / MiB });
  }
  const dirFree = await freeKiB(guest, installDir);
  if (dirFree < INSTALL_DIR_MIN_KIB) {
    throw new PushError(Codes.InstallSpace, { path: installDir, freeMiB: Math.floor(dirFree / MiB), requiredMiB: INSTALL_DIR_MIN_KIB / MiB });
  }
  const grub = parseMarkedFiles((await guest.run(linuxCommands.grubConfigs(), { privileged: true })).stdout);
  const offending = grubDeviceNameLines(grub);
  if (offending.length > 0) throw new PushError(Codes.GrubDeviceNames, { lines: offending.slice(0, 10) });
  ctx.log(`prerequisites passed: x86_64, ${installerTag}, ${Math.floor(rootFree / MiB)} MiB free on /, ${Math.floor(dirFree / MiB)} MiB free for ${installDir}, GRUB uses UUIDs`);
}

export async function install(ctx: JobContext, guest: LinuxGuest, archive: string, stage: string, installDir: string): Promise<void> {
  const extracted = `${stage}/extracted`;
  await guest.must(linuxCommands.extract(archive, extracted), { what: 'extract the installer', code: Codes.ExtractFailed, privileged: true });
  const res = await guest.run(linuxCommands.marked(runningMarker(stage), linuxCommands.install(extracted, installDir)), { privileged: true, label: linuxCommands.install(extracted, installDir) });
  if (res.code !== 0) {
    const logTail = (await guest.run(linuxCommands.installLogTail(), { privileged: true })).stdout;
    throw new PushError(Codes.InstallFailed, {
      exitCode: res.code,
      installerLogTail: tail(logTail, 50),
      stderr: tail(res.stderr, 20),
    }, { message: `The Mobility Service installer failed with exit code ${res.code}.` });
  }
  ctx.log(`installed the Mobility Service in ${installDir}`);
}

export async function register(ctx: JobContext, guest: LinuxGuest, deps: PipelineDeps, stage: string, installDir: string, version: string): Promise<void> {
  const cs = await readCsSettings(deps.settings);
  const passphraseFile = `${stage}/passphrase.txt`;
  let res;
  try {
    await guest.must(linuxCommands.writePrivateFile(passphraseFile), { stdin: cs.passphrase + '\n', what: 'write the passphrase file', label: `write ${passphraseFile} (0600)` });
    const command = linuxCommands.register(installDir, cs.endpoint, passphraseFile);
    res = await guest.run(linuxCommands.marked(runningMarker(stage), command), { privileged: true, label: command });
  } finally {
    // The passphrase never outlives the registration command, whatever happened.
    await guest.run(linuxCommands.remove(passphraseFile), { privileged: true }).catch(() => undefined);
  }
  if (res.code !== 0) {
    throw new PushError(Codes.RegistrationFailed, { exitCode: res.code, output: tail(`${res.stdout}\n${res.stderr}`, 20), csEndpoint: cs.endpoint },
      { message: `The Mobility Service could not register with the configuration server ${cs.endpoint} (exit code ${res.code}).` });
  }
  await verifyAgent(ctx, guest, version);
  ctx.log(`registered with the configuration server ${cs.endpoint}`);
}

/** The agent of `version` is installed and registered (/usr/local/.vx_version), else 99014. */
export async function verifyAgent(ctx: JobContext, guest: LinuxGuest, version: string): Promise<void> {
  const state = await readAgentState(guest);
  if (!state.installed || !state.registered || (state.version !== undefined && !sameRelease(state.version, version))) {
    throw new PushError(Codes.VerifyFailed, { expectedVersion: version, found: state });
  }
  if (state.version !== undefined) await ctx.setInstalledBuild(state.version);
  ctx.log(`/usr/local/.vx_version shows ${state.version} and AGENT_CONFIGURATION_STATUS=Succeeded`);
}

/** How a job reaches a Linux guest (SSH), for the shared session and clean-up logic. */
export function linuxAccess(ctx: JobContext, deps: PipelineDeps): GuestAccess<LinuxGuest> {
  return {
    connect: (signal) => connectLinuxGuest(ctx, deps, signal ?? ctx.signal),
    removeTree: async (guest, p) => {
      const res = await guest.run(linuxCommands.removeTree(p), { privileged: true });
      if (res.code !== 0) throw new Error(`rm -rf exited ${res.code}: ${res.stderr.trim()}`);
    },
    close: (guest) => guest.close(),
    cleanupTimeoutMs: deps.settings.connectTimeoutMs * 2,
  };
}

export type LinuxSession = GuestSession<LinuxGuest>;

/** withGuestSession for a Linux guest. */
export function withLinuxSession<T>(ctx: JobContext, deps: PipelineDeps, stage: string | null, body: (session: LinuxSession) => Promise<T>): Promise<T> {
  return withGuestSession(ctx, linuxAccess(ctx, deps), stage, body);
}
