import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { sameRelease } from '../../repository/versions.ts';
import type { JobContext } from '../context.ts';
import { readCsSettings } from '../cs-settings.ts';
import type { PipelineDeps } from '../deps.ts';
import { tail } from '../output.ts';
import type { WindowsAgentState } from './agent-state.ts';
import { readWindowsAgentState } from './facts.ts';
import { CONFIGURATOR_LOG, windowsCommands } from './commands.ts';
import { readLogTail } from './install.ts';
import type { WindowsGuest } from './windows-guest.ts';

/**
 * Registers the agent with the configuration server (guest-contract.md, Windows steps 6 and 7): the
 * passphrase goes into `<stage>\passphrase.txt` over the file channel (never on a command line), the
 * configurator runs, the file is removed whatever happened; then the registry must show the agent
 * installed at this version and AgentConfigurationStatus Succeeded.
 */
export async function registerWindowsAgent(ctx: JobContext, guest: WindowsGuest, deps: PipelineDeps, stage: string, installDir: string, version: string): Promise<void> {
  const cs = await readCsSettings(deps.settings);
  const passphraseFile = `${stage}\\passphrase.txt`;
  let res;
  try {
    await guest.mkdirp(stage);
    ctx.log(`writing the passphrase to ${passphraseFile} over ${guest.files.protocol.toUpperCase()}`);
    await guest.writeFile(passphraseFile, cs.passphrase);
    res = await guest.run(windowsCommands.register(installDir, cs.endpoint, passphraseFile));
  } finally {
    // The passphrase never outlives the registration command; if this fails, the clean-up of the
    // staging folder (over a fresh connection when needed) removes it.
    await guest.remove(passphraseFile).then(
      () => ctx.log(`removed ${passphraseFile}`),
      (e: unknown) => ctx.log(`could not remove ${passphraseFile} now (${(e as Error).message}); the staging folder clean-up will`),
    );
  }
  if (res.code !== 0) {
    throw new PushError(Codes.RegistrationFailed, {
      exitCode: res.code,
      output: tail(`${res.stdout}\n${res.stderr}`, 20),
      configuratorLogTail: await readLogTail(guest, CONFIGURATOR_LOG, 30),
      csEndpoint: cs.endpoint,
    }, { message: `The Mobility Service could not register with the configuration server ${cs.endpoint} (exit code ${res.code}).` });
  }
  await verifyWindowsAgent(ctx, guest, version);
  ctx.log(`registered with the configuration server ${cs.endpoint}`);
}

/**
 * The registry shows the agent installed at `version` and registered (AgentConfigurationStatus
 * Succeeded), and, when `installDir` is given, still in that folder; else 99014.
 */
export async function verifyWindowsAgent(ctx: JobContext, guest: WindowsGuest, version: string, installDir?: string): Promise<WindowsAgentState> {
  const state = await readWindowsAgentState(guest);
  const movedTo = installDir !== undefined && state.installDir !== undefined && state.installDir.toLowerCase() !== installDir.toLowerCase() ? state.installDir : undefined;
  if (!state.installed || !state.registered || (state.version !== undefined && !sameRelease(state.version, version)) || movedTo !== undefined) {
    throw new PushError(Codes.VerifyFailed, { expectedVersion: version, ...(installDir !== undefined ? { expectedInstallDir: installDir } : {}), found: state });
  }
  if (state.version !== undefined) await ctx.setInstalledBuild(state.version);
  ctx.log(`the registry shows agent ${state.version ?? version}${state.installDir ? ` in ${state.installDir}` : ''} with AgentConfigurationStatus ${state.configurationStatus}`);
  return state;
}
