import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { compareVersions } from '../../repository/versions.ts';
import type { JobContext, PipelineOutcome } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps, SelectedInstaller } from '../deps.ts';
import { connectLinuxGuest } from './connect.ts';
import {
  DEFAULT_INSTALL_DIR, grubDeviceNameLines, isSafeAbsolutePath, linuxCommands, parseDfAvailableKiB, parseMarkedFiles, parseVxVersion,
} from './commands.ts';
import { detectGuestOs, resolveJobOsTag } from './detect-os.ts';
import { tail, type LinuxGuest } from './linux-guest.ts';

const MiB = 1024;
const STAGING_MIN_KIB = 100 * MiB;
const ROOT_MIN_KIB = 2048 * MiB;
const INSTALL_DIR_MIN_KIB = 250 * MiB;

export function stagingDir(jobId: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(jobId)) throw new Error(`unexpected job id ${jobId}`);
  return `/tmp/pushinstall-${jobId}`;
}

export function installDirOf(requested: string | undefined): string {
  const dir = requested ?? DEFAULT_INSTALL_DIR;
  if (!isSafeAbsolutePath(dir)) throw new PushError(Codes.CommandFailed, { reason: `installLocation ${JSON.stringify(dir)} is not a safe absolute path` });
  return dir.replace(/\/+$/, '') || '/';
}

interface AgentState { installed: boolean; version?: string; registered: boolean; installDir?: string }

export async function readAgentState(guest: LinuxGuest): Promise<AgentState> {
  const text = (await guest.run(linuxCommands.agentState(), { privileged: true })).stdout;
  if (text.trim() === '') return { installed: false, registered: false };
  const kv = parseVxVersion(text);
  const state: AgentState = { installed: true, registered: kv.AGENT_CONFIGURATION_STATUS === 'Succeeded' };
  if (kv.VERSION) state.version = kv.VERSION;
  if (kv.INSTALLATION_DIR) state.installDir = kv.INSTALLATION_DIR;
  return state;
}

async function freeKiB(guest: LinuxGuest, p: string): Promise<number> {
  const out = await guest.must(linuxCommands.freeKiB(p), { what: `free space of ${p}`, privileged: true });
  const kib = parseDfAvailableKiB(out.trim().split('\n').pop() ?? '');
  if (kib === null) throw new PushError(Codes.CommandFailed, { what: `free space of ${p}`, output: tail(out, 5) });
  return kib;
}

/** Copies the installer into the staging folder unless the same bytes are already there (a retried job). */
async function copyInstaller(ctx: JobContext, guest: LinuxGuest, installer: SelectedInstaller, stage: string): Promise<string> {
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
  let lastLogged = 0;
  await guest.channel.put(installer.path, remote, {
    signal: ctx.signal,
    onProgress: (done, total) => {
      if (done - lastLogged >= 64 * 1024 * 1024 || done === total) {
        lastLogged = done;
        ctx.log(`copied ${done} of ${total} bytes`);
      }
    },
  });
  const copied = (await guest.run(linuxCommands.sha256(remote))).stdout.trim().split(/\s+/)[0];
  if (copied !== installer.sha256) {
    throw new PushError(Codes.CopyCorrupt, { file: remote, expected: installer.sha256, actual: copied ?? null });
  }
  ctx.log(`verified SHA-256 ${installer.sha256} on the machine`);
  return remote;
}

async function checkPrerequisites(ctx: JobContext, guest: LinuxGuest, installerTag: string, installDir: string): Promise<void> {
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

async function install(ctx: JobContext, guest: LinuxGuest, archive: string, stage: string, installDir: string): Promise<void> {
  const extracted = `${stage}/extracted`;
  await guest.must(linuxCommands.extract(archive, extracted), { what: 'extract the installer', code: Codes.ExtractFailed, privileged: true });
  const res = await guest.run(linuxCommands.install(extracted, installDir), { privileged: true });
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

async function register(ctx: JobContext, guest: LinuxGuest, deps: PipelineDeps, stage: string, installDir: string, version: string): Promise<void> {
  const cs = await readCsSettings(deps.settings);
  const passphraseFile = `${stage}/passphrase.txt`;
  let res;
  try {
    await guest.must(linuxCommands.writePrivateFile(passphraseFile), { stdin: cs.passphrase + '\n', what: 'write the passphrase file', label: `write ${passphraseFile} (0600)` });
    res = await guest.run(linuxCommands.register(installDir, cs.endpoint, passphraseFile), { privileged: true });
  } finally {
    // The passphrase never outlives the registration command, whatever happened.
    await guest.run(linuxCommands.remove(passphraseFile), { privileged: true }).catch(() => undefined);
  }
  if (res.code !== 0) {
    throw new PushError(Codes.RegistrationFailed, { exitCode: res.code, output: tail(`${res.stdout}\n${res.stderr}`, 20), csEndpoint: cs.endpoint },
      { message: `The Mobility Service could not register with the configuration server ${cs.endpoint} (exit code ${res.code}).` });
  }
  const state = await readAgentState(guest);
  if (!state.installed || !state.registered || (state.version !== undefined && compareVersions(state.version, version) !== 0)) {
    throw new PushError(Codes.VerifyFailed, { expectedVersion: version, found: state });
  }
  ctx.log(`registered with the configuration server ${cs.endpoint}; /usr/local/.vx_version shows ${state.version} and AGENT_CONFIGURATION_STATUS=Succeeded`);
}

/**
 * Removes the staging folder. When the job's channel is gone (torn down by a cancel, or the connection
 * dropped), it cleans up over a fresh connection that is not bound to the job's signal.
 */
async function cleanUp(ctx: JobContext, deps: PipelineDeps, guest: LinuxGuest | undefined, stage: string): Promise<void> {
  if (!guest) return; // never connected: nothing was created on the machine
  const command = linuxCommands.removeTree(stage);
  if (!ctx.signal.aborted) {
    try {
      await guest.run(command, { privileged: true });
      return;
    } catch (e) {
      ctx.log(`removing ${stage} over the job's connection failed (${(e as Error).message}); trying a new connection`);
    }
  }
  try {
    const fresh = await connectLinuxGuest(ctx, deps, AbortSignal.timeout(deps.settings.connectTimeoutMs * 2));
    try { await fresh.run(command, { privileged: true }); } finally { await fresh.channel.close(); }
    ctx.log(`removed ${stage}`);
  } catch (e) {
    ctx.log(`could not remove the staging folder ${stage}: ${(e as Error).message}`);
  }
}

/**
 * Enable replication on a Linux guest (guest-contract.md, Linux): copy, prerequisites, install,
 * register, verify; the VSS task does not apply and is Skipped.
 */
export async function enableReplicationLinux(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const stage = stagingDir(ctx.job.id);
  const installDir = installDirOf(ctx.job.request.installLocation);
  await readCsSettings(deps.settings); // fail before touching the guest when registration cannot work
  let guest: LinuxGuest | undefined;
  try {
    let installer!: SelectedInstaller;
    let state!: AgentState;
    let archive = '';
    let nothingToInstall = false;
    await ctx.task('CopyInstaller', async () => {
      guest = await connectLinuxGuest(ctx, deps);
      const tag = await resolveJobOsTag(ctx, guest);
      installer = await deps.repository.select(tag);
      await ctx.setInstaller({ file: installer.file, sha256: installer.sha256 }, installer.version);
      ctx.log(`selected ${installer.file} (agent ${installer.version}, SHA-256 ${installer.sha256})`);
      state = await readAgentState(guest);
      if (state.installed && state.version && compareVersions(state.version, installer.version) >= 0) {
        nothingToInstall = true;
        return;
      }
      archive = await copyInstaller(ctx, guest, installer, stage);
    });
    if (nothingToInstall) {
      const what = `agent ${state.version} is already installed`;
      await ctx.endTask('CopyInstaller', 'Succeeded', undefined, `${what}: nothing to copy`);
      await ctx.skip('PrerequisiteCheck', `${what}`);
      await ctx.skip('InstallMobilityService', `${what}`);
    } else {
      await ctx.task('PrerequisiteCheck', () => checkPrerequisites(ctx, guest as LinuxGuest, installer.osTag, installDir));
      await ctx.task('InstallMobilityService', () => install(ctx, guest as LinuxGuest, archive, stage, installDir));
    }
    await ctx.skip('InstallVssProvider', 'the VSS provider applies to Windows only');
    const agentDir = nothingToInstall ? (state.installDir ?? installDir) : installDir;
    const version = nothingToInstall ? (state.version as string) : installer.version;
    if (nothingToInstall && state.registered) {
      await ctx.skip('RegisterWithConfigurationServer', `agent ${state.version} is already registered with the configuration server`);
    } else {
      await ctx.task('RegisterWithConfigurationServer', () => register(ctx, guest as LinuxGuest, deps, stage, agentDir, version));
    }
    await cleanUp(ctx, deps, guest, stage);
    return { state: 'Succeeded', warnings: [] };
  } catch (e) {
    if (ctx.willRetry(e)) ctx.log(`keeping ${stage} for the next attempt (the copy will be skipped if the installer is intact)`);
    else await cleanUp(ctx, deps, guest, stage);
    throw e;
  } finally {
    await guest?.channel.close();
  }
}

