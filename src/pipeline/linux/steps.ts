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
import { EARLIER_WAIT_SEC, grubDeviceNameLines, linuxCommands, parseSections, registerAndVerify, verifyAndExtract, VX_VERSION_FILE } from './commands.ts';
import { detectGuestOs } from './detect-os.ts';
import { logCopyProgress, newNonce, tail } from '../output.ts';
import type { LinuxGuest } from './linux-guest.ts';
import { agentStateOf, probeGuest, type AgentState, type GuestFacts } from './probe.ts';

export { freeKiB, type AgentState } from './probe.ts';

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
 * step timeout), so two never run at once and this attempt sees what it did. `first`: what the probe's
 * own wait printed (it waits first, in the same exec); the next waits are commands of their own.
 */
async function waitForEarlierCommand(ctx: JobContext, guest: LinuxGuest, stage: string, timeoutMs: number, first: string): Promise<void> {
  const started = Date.now();
  let out: string | undefined = first;
  for (;;) {
    out ??= (await guest.run(linuxCommands.waitForMarked(runningMarker(stage), EARLIER_WAIT_SEC), { privileged: true, label: `wait for a command an earlier attempt started (${runningMarker(stage)})` })).stdout.trim();
    const [what, pid] = out.split(/\s+/);
    if (what !== 'running') {
      if (what === 'ended') ctx.log(`the command an earlier attempt started (pid ${pid}) has ended, after ${Math.round((Date.now() - started) / 1000)} s of waiting`);
      return;
    }
    ctx.log(`a command an earlier attempt started (pid ${pid}) still runs on the guest: waiting for it to end`);
    if (Date.now() - started > timeoutMs) throw new PushError(Codes.Timeout, { phase: 'exec', reason: `the command an earlier attempt started (pid ${pid}) did not end`, timeoutMs });
    out = undefined;
  }
}

export function installDirOf(requested: string | undefined): string {
  const dir = requested ?? DEFAULT_LINUX_INSTALL_DIR;
  if (!isSafeAbsolutePath(dir)) throw new PushError(Codes.CommandFailed, { reason: `installLocation ${JSON.stringify(dir)} is not a safe absolute path` });
  return dir.replace(/\/+$/, '') || '/';
}

export async function readAgentState(guest: LinuxGuest): Promise<AgentState> {
  return agentStateOf((await guest.run(linuxCommands.agentState(), { privileged: true })).stdout);
}

/**
 * What a job that installs reads before it copies, in one exec (see probe.ts), which first waits for a
 * command an earlier, handed-back attempt may still run; when that one outlasts the probe's wait, the
 * job waits on and probes again (the command changed what the probe read).
 */
export async function probeForInstall(ctx: JobContext, guest: LinuxGuest, stage: string, installDir: string, timeoutMs: number): Promise<GuestFacts> {
  const spec = { stage, earlier: runningMarker(stage), freeSpace: [stage, '/', installDir], agentState: true, grub: true };
  const facts = await probeGuest(guest, spec);
  const earlier = facts.earlier();
  await waitForEarlierCommand(ctx, guest, stage, timeoutMs, earlier);
  return earlier.startsWith('running') ? probeGuest(guest, spec) : facts;
}

/** The installer in the staging folder, verified and extracted (or why it could not be extracted). */
export interface StagedInstaller { stage: string; archive: string; extracted: string; extractError?: PushError }

/**
 * Copies the installer into the staging folder unless the same bytes are already there (a retried job),
 * then verifies its SHA-256 and extracts it in one exec. An extraction failure belongs to the install
 * task, so it is handed over (StagedInstaller.extractError) rather than thrown here.
 */
export async function copyInstaller(ctx: JobContext, guest: LinuxGuest, facts: GuestFacts, installer: SelectedInstaller, stage: string): Promise<StagedInstaller> {
  const folder = facts.stage();
  if (folder.mode !== '700') throw new PushError(Codes.CommandFailed, { reason: `staging folder ${stage} has mode ${folder.mode}, expected 700` });
  if (folder.owner !== folder.uid) throw new PushError(Codes.CommandFailed, { reason: `staging folder ${stage} is owned by uid ${folder.owner}, not by the run-as account (uid ${folder.uid})` });
  const free = await facts.freeKiB(stage);
  if (free < STAGING_MIN_KIB) {
    throw new PushError(Codes.CopySpace, { path: stage, freeMiB: Math.floor(free / MiB), requiredMiB: STAGING_MIN_KIB / MiB });
  }
  const remote = `${stage}/${installer.file}`;
  if (facts.stagedSha256(remote) === installer.sha256) {
    await ctx.note('CopyInstaller', `copy skipped: ${installer.file} with the same SHA-256 is already on the machine`);
    ctx.log(`copy skipped: ${remote} already has SHA-256 ${installer.sha256}`);
  } else {
    ctx.log(`copying ${installer.file} (${installer.size} bytes) to ${remote}`);
    const copyStart = performance.now();
    await guest.put(installer.path, remote, logCopyProgress((l) => ctx.log(l)));
    ctx.copied?.(installer.size, (performance.now() - copyStart) / 1000);
  }
  return verifyAndExtractInstaller(ctx, guest, installer, stage, remote);
}

async function verifyAndExtractInstaller(ctx: JobContext, guest: LinuxGuest, installer: SelectedInstaller, stage: string, archive: string): Promise<StagedInstaller> {
  const extracted = `${stage}/extracted`;
  const nonce = newNonce();
  const res = await guest.run(verifyAndExtract(nonce, archive, installer.sha256, extracted), { privileged: true, label: `verify the SHA-256 of ${archive} and extract it` });
  const sections = parseSections(res.stdout, nonce);
  const copied = sections.get('sha')?.output.trim().split(/\s+/)[0] || null;
  if (copied !== installer.sha256) throw new PushError(Codes.CopyCorrupt, { file: archive, expected: installer.sha256, actual: copied });
  ctx.log(`verified SHA-256 ${installer.sha256} on the machine`);
  const extract = sections.get('extract');
  if (extract?.code === 0) return { stage, archive, extracted };
  const extractError = new PushError(Codes.ExtractFailed, {
    what: 'extract the installer', exitCode: extract?.code ?? res.code, stderr: tail(res.stderr), stdout: tail(extract?.output ?? ''),
  });
  return { stage, archive, extracted, extractError };
}

export async function checkPrerequisites(ctx: JobContext, facts: GuestFacts, installerTag: string, installDir: string): Promise<void> {
  const arch = facts.arch();
  if (arch !== 'x86_64') throw new PushError(Codes.UnsupportedArch, { machine: arch });

  const detected = detectGuestOs(facts);
  if (detected.ok && detected.tag !== installerTag) {
    throw new PushError(Codes.OsMismatch, { installerOsTag: installerTag, machineOsTag: detected.tag, machineOs: detected.description });
  }
  if (!detected.ok) ctx.log(`could not confirm the OS on the machine (${detected.reason}); trusting the request's OS ${installerTag}`);

  const rootFree = await facts.freeKiB('/');
  if (rootFree < ROOT_MIN_KIB) {
    throw new PushError(Codes.InstallSpace, { path: '/', freeMiB: Math.floor(rootFree / MiB), requiredMiB: ROOT_MIN_KIB / MiB });
  }
  const dirFree = await facts.freeKiB(installDir);
  if (dirFree < INSTALL_DIR_MIN_KIB) {
    throw new PushError(Codes.InstallSpace, { path: installDir, freeMiB: Math.floor(dirFree / MiB), requiredMiB: INSTALL_DIR_MIN_KIB / MiB });
  }
  const offending = grubDeviceNameLines(facts.grubConfigs());
  if (offending.length > 0) throw new PushError(Codes.GrubDeviceNames, { lines: offending.slice(0, 10) });
  ctx.log(`prerequisites passed: x86_64, ${installerTag}, ${Math.floor(rootFree / MiB)} MiB free on /, ${Math.floor(dirFree / MiB)} MiB free for ${installDir}, GRUB uses UUIDs`);
}

export async function install(ctx: JobContext, guest: LinuxGuest, staged: StagedInstaller, installDir: string): Promise<void> {
  if (staged.extractError) throw staged.extractError;
  const command = linuxCommands.install(staged.extracted, installDir);
  const res = await guest.run(linuxCommands.marked(runningMarker(staged.stage), command), { privileged: true, label: command });
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

/**
 * Registers with the configuration server: the passphrase goes through stdin into a private file that
 * the same exec removes after the configurator ran, whatever happened; the agent state is read back in
 * that exec too. `last`: registration is the job's last use of the staging folder, so that exec removes
 * it as well (and the session skips its own clean-up command).
 */
export async function register(ctx: JobContext, guest: LinuxGuest, deps: PipelineDeps, stage: string, installDir: string, version: string, last?: { stageRemoved(): void }): Promise<void> {
  const cs = await readCsSettings(deps.settings);
  const passphraseFile = `${stage}/passphrase.txt`;
  const nonce = newNonce();
  let res;
  try {
    res = await guest.run(registerAndVerify(nonce, { installDir, csEndpoint: cs.endpoint, passphraseFile, marker: runningMarker(stage), ...(last ? { stage } : {}) }), {
      privileged: true, stdin: cs.passphrase + '\n',
      label: `write ${passphraseFile} (0600) from stdin; ${linuxCommands.register(installDir, cs.endpoint, passphraseFile)}; rm -f ${passphraseFile}; cat ${VX_VERSION_FILE}${last ? `; rm -rf ${stage}` : ''}`,
    });
  } catch (e) {
    // The exec did not complete: the passphrase must not outlive it.
    await guest.run(linuxCommands.remove(passphraseFile), { privileged: true }).catch(() => undefined);
    throw e;
  }
  const sections = parseSections(res.stdout, nonce);
  const write = sections.get('write');
  if (write?.code !== 0) {
    throw new PushError(Codes.CommandFailed, { what: 'write the passphrase file', exitCode: write?.code ?? res.code, stderr: tail(res.stderr), stdout: tail(write?.output ?? '') });
  }
  if (sections.get('cleanup')?.code === 0) last?.stageRemoved();
  const registered = sections.get('register');
  if (registered?.code !== 0) {
    const code = registered?.code ?? res.code;
    throw new PushError(Codes.RegistrationFailed, { exitCode: code, output: tail(`${registered?.output ?? ''}\n${res.stderr}`, 20), csEndpoint: cs.endpoint },
      { message: `The Mobility Service could not register with the configuration server ${cs.endpoint} (exit code ${code}).` });
  }
  await checkAgent(ctx, agentStateOf(sections.get('agent')?.output ?? ''), version);
  ctx.log(`registered with the configuration server ${cs.endpoint}`);
}

/** The agent of `version` is installed and registered (/usr/local/.vx_version), else 99014. */
export async function verifyAgent(ctx: JobContext, guest: LinuxGuest, version: string): Promise<void> {
  await checkAgent(ctx, await readAgentState(guest), version);
}

async function checkAgent(ctx: JobContext, state: AgentState, version: string): Promise<void> {
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
