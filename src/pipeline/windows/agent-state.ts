import { AGENT_KEY, parseRegQuery, regString, UNINSTALL_KEY, windowsCommands } from './commands.ts';
import type { WindowsGuest } from './windows-guest.ts';

export interface WindowsAgentState {
  installed: boolean;
  version?: string;
  registered: boolean;
  installDir?: string;
  /** The raw AgentConfigurationStatus value, for the log. */
  configurationStatus?: string;
}

/**
 * What the registry says about the agent (asr-facts.md §6): installed when the MSI's Uninstall key
 * exists (DisplayVersion: the version); registered when the InMage key's AgentConfigurationStatus says
 * Succeeded. `reg query` of a missing key exits 1; that is "not there", not a failure.
 */
export async function readWindowsAgentState(guest: WindowsGuest): Promise<WindowsAgentState> {
  const uninstall = await guest.run(windowsCommands.regQuery(UNINSTALL_KEY));
  if (uninstall.code !== 0) return { installed: false, registered: false };
  const product = parseRegQuery(uninstall.stdout);
  const agent = await guest.run(windowsCommands.regQuery(AGENT_KEY));
  const inmage = agent.code === 0 ? parseRegQuery(agent.stdout) : new Map();
  const status = regString(inmage, 'AgentConfigurationStatus');
  const state: WindowsAgentState = { installed: true, registered: status !== undefined && /Succeeded/i.test(status) };
  const version = regString(product, 'DisplayVersion');
  if (version) state.version = version;
  const dir = regString(inmage, 'InstallDirectory') ?? regString(product, 'InstallLocation');
  if (dir) state.installDir = dir.replace(/\\+$/, '');
  if (status !== undefined) state.configurationStatus = status;
  return state;
}
