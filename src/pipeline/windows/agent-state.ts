import { AGENT_KEY, parseRegQuery, regString, UNINSTALL_KEYS, windowsCommands, type RegValue } from './commands.ts';
import type { WindowsGuest } from './windows-guest.ts';

export interface WindowsAgentState {
  installed: boolean;
  version?: string;
  registered: boolean;
  installDir?: string;
  /** The raw AgentConfigurationStatus value, for the log. */
  configurationStatus?: string;
  /** The Uninstall key found (64-bit view, or Wow6432Node for a 32-bit MSI). */
  uninstallKey?: string;
}

/** The MSI's Uninstall key in the 64-bit view, else in the 32-bit view; undefined when in neither. */
async function readUninstallKey(guest: WindowsGuest): Promise<{ key: string; values: Map<string, RegValue> } | undefined> {
  for (const key of UNINSTALL_KEYS) {
    const res = await guest.run(windowsCommands.regQuery(key));
    if (res.code === 0) return { key, values: parseRegQuery(res.stdout) };
  }
  return undefined;
}

/**
 * What the registry says about the agent (asr-facts.md §6): installed when the MSI's Uninstall key
 * exists in either registry view (DisplayVersion: the agent's build, e.g. 9.30.5407.1); registered
 * when the InMage key's AgentConfigurationStatus says Succeeded. `reg query` of a missing key exits 1; that is "not there", not a failure.
 */
export async function readWindowsAgentState(guest: WindowsGuest): Promise<WindowsAgentState> {
  const uninstall = await readUninstallKey(guest);
  if (uninstall === undefined) return { installed: false, registered: false };
  const product = uninstall.values;
  const agent = await guest.run(windowsCommands.regQuery(AGENT_KEY));
  const inmage = agent.code === 0 ? parseRegQuery(agent.stdout) : new Map();
  const status = regString(inmage, 'AgentConfigurationStatus');
  const state: WindowsAgentState = { installed: true, registered: status !== undefined && /Succeeded/i.test(status), uninstallKey: uninstall.key };
  const version = regString(product, 'DisplayVersion');
  if (version) state.version = version;
  const dir = regString(inmage, 'InstallDirectory') ?? regString(product, 'InstallLocation');
  if (dir) state.installDir = dir.replace(/\\+$/, '');
  if (status !== undefined) state.configurationStatus = status;
  return state;
}
