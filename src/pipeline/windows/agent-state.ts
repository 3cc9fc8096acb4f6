import type { PartResult } from './batch.ts';
import { parseRegQuery, regString } from './commands.ts';

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

/**
 * What the registry says about the agent (asr-facts.md §6), from `reg query` of the MSI's Uninstall key in
 * both views (64-bit first) and of the InMage key: installed when the Uninstall key exists in either view
 * (DisplayVersion: the agent's build, e.g. 9.30.5407.1); registered when the InMage key's
 * AgentConfigurationStatus says Succeeded. `reg query` of a missing key fails; that is "not there", not a failure.
 */
export function agentStateOf(uninstall: ReadonlyArray<{ key: string; read: PartResult }>, inmageKey: PartResult): WindowsAgentState {
  const found = uninstall.find((u) => u.read.ok);
  if (found === undefined) return { installed: false, registered: false };
  const product = parseRegQuery(found.read.output);
  const inmage = inmageKey.ok ? parseRegQuery(inmageKey.output) : new Map();
  const status = regString(inmage, 'AgentConfigurationStatus');
  const state: WindowsAgentState = { installed: true, registered: status !== undefined && /Succeeded/i.test(status), uninstallKey: found.key };
  const version = regString(product, 'DisplayVersion');
  if (version) state.version = version;
  const dir = regString(inmage, 'InstallDirectory') ?? regString(product, 'InstallLocation');
  if (dir) state.installDir = dir.replace(/\\+$/, '');
  if (status !== undefined) state.configurationStatus = status;
  return state;
}
