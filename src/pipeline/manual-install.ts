// The documented manual install of the Mobility Service, as command lines an operator runs on the machine:
// the same arguments the push uses (windowsArgs, linuxArgs), with the installer's file name, the default
// install folder and CS_ENDPOINT filled in. The passphrase never appears: only a placeholder for its file.
import { DEFAULT_LINUX_INSTALL_DIR, DEFAULT_WINDOWS_INSTALL_DIR } from '../domain/paths.ts';
import { shQuote } from '../transports/shell-quote.ts';
import { linuxArgs } from './linux/commands.ts';
import { agentDir, quotePath, windowsArgs } from './windows/commands.ts';

export interface ManualInstallStep {
  what: string;
  command: string;
}

export interface ManualInstallLines {
  /** Where to copy the installer on the machine before the steps. */
  stagingFolder: string;
  installLocation: string;
  steps: ManualInstallStep[];
  /** What the operator must replace in the lines. */
  placeholders: Record<string, string>;
}

export const PASSPHRASE_PLACEHOLDER = '<passphrase file>';
export const CS_ENDPOINT_PLACEHOLDER = '<configuration server IP address>';

const PLACEHOLDERS = {
  [PASSPHRASE_PLACEHOLDER]: 'a file holding the configuration server passphrase (on the configuration server: genpassphrase.exe -v); delete it after registering',
};

function windowsLines(file: string, cs: string): ManualInstallLines {
  const staging = 'C:\\Temp';
  const extracted = `${staging}\\Extracted`;
  const dir = DEFAULT_WINDOWS_INSTALL_DIR;
  return {
    stagingFolder: staging, installLocation: dir, placeholders: { ...PLACEHOLDERS },
    steps: [
      { what: 'go to the folder the installer was copied to', command: `cd /d ${staging}` },
      { what: 'extract the installer', command: `${file} ${windowsArgs.extract(extracted)}` },
      { what: 'install the Mobility Service', command: `cd /d ${extracted} && UnifiedAgent.exe ${windowsArgs.install(dir)}` },
      { what: 'register with the configuration server', command: `cd /d ${quotePath(agentDir(dir))} && UnifiedAgentConfigurator.exe ${windowsArgs.register(cs, `"${PASSPHRASE_PLACEHOLDER}"`)}` },
    ],
  };
}

function linuxLines(file: string, cs: string): ManualInstallLines {
  const staging = '/tmp/MobilityService';
  const dir = DEFAULT_LINUX_INSTALL_DIR;
  return {
    stagingFolder: staging, installLocation: dir, placeholders: { ...PLACEHOLDERS },
    steps: [
      { what: 'go to the folder the installer was copied to', command: `cd ${staging}` },
      { what: 'extract the installer', command: `tar -xvf ${shQuote(file)}` },
      { what: 'install the Mobility Service (as root)', command: linuxArgs.install(dir) },
      { what: 'register with the configuration server', command: linuxArgs.register(dir, cs, `'${PASSPHRASE_PLACEHOLDER}'`) },
    ],
  };
}

/** The lines for an installer file of a platform; `csEndpoint` unset leaves a placeholder (named in `placeholders`). */
export function manualInstallLines(platform: 'windows' | 'linux', file: string, csEndpoint: string | undefined): ManualInstallLines {
  const cs = csEndpoint ?? CS_ENDPOINT_PLACEHOLDER;
  const lines = platform === 'windows' ? windowsLines(file, cs) : linuxLines(file, cs);
  if (!csEndpoint) lines.placeholders[CS_ENDPOINT_PLACEHOLDER] = 'CS_ENDPOINT is not set on this process server: the configuration server\'s IP address';
  return lines;
}
