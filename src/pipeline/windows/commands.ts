import { cmdQuote } from '../../transports/shell-quote.ts';

/**
 * The cmd.exe command lines the Windows steps send (guest-contract.md, Windows), built from validated
 * values only and quoted with cmdQuote. Kept apart from the step logic so they read as the contract.
 *
 * No command line starts with a double quote: WinRS and Win32-OpenSSH hand the line to `cmd.exe /c`,
 * which strips the first and the last quote of a line that starts with one (`cmd /?`, "old behavior").
 * So every program run by its quoted path is preceded by `cd /d "<its folder>" &&`, which also gives the
 * installer its own folder as working directory.
 */
export const PRODUCT_CODE = '{275197FC-14FD-4560-A5EB-38217F80CBD1}';
/** asr-facts.md §6: present once the agent is installed (value DisplayVersion: the agent's build). */
export const UNINSTALL_KEY = `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${PRODUCT_CODE}`;
/**
 * The same key in the registry's 32-bit view: a 32-bit MSI on 64-bit Windows lists its Uninstall key
 * there ("Registry Redirector": HKLM\SOFTWARE is redirected to HKLM\SOFTWARE\Wow6432Node for 32-bit
 * programs). Both views are read, 64-bit first.
 */
export const UNINSTALL_KEY_32 = `HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${PRODUCT_CODE}`;
export const UNINSTALL_KEYS = [UNINSTALL_KEY, UNINSTALL_KEY_32] as const;
/** asr-facts.md §6: AgentConfigurationStatus "Succeeded" once registered. */
export const AGENT_KEY = 'HKLM\\SOFTWARE\\Wow6432Node\\InMage Systems\\Installed Products\\5';
/** The remote UAC fix (KB951016): local administrators keep their full token on network logons. */
export const TOKEN_FILTER_POLICY = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System LocalAccountTokenFilterPolicy (DWORD) = 1';
export const OS_VERSION_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
export const ENVIRONMENT_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
export const INSTALLER_LOG = 'C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedAgentInstaller.log';
export const CONFIGURATOR_LOG = 'C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedAgentConfigurator.log';
export const UNINSTALL_LOG = 'C:\\ProgramData\\ASRSetupLogs\\UnifiedAgentMSIUninstall.log';
/**
 * Parent of the per-job staging folders. A folder an administrator creates in C:\Windows\Temp inherits
 * access for SYSTEM, Administrators and its creator only (the Users entries there apply to that folder
 * alone), so the staging folder and the passphrase file in it are private without setting an ACL.
 */
export const STAGING_PARENT = 'C:\\Windows\\Temp';

/** A path always in double quotes (cmdQuote refuses what cmd.exe would expand even inside quotes). */
export function quotePath(p: string): string {
  const q = cmdQuote(p);
  return q.startsWith('"') ? q : `"${q}"`;
}

/** `C:\a\b` → `C:\a`; the folder holding a file. */
export function windowsDirname(p: string): string {
  const i = p.lastIndexOf('\\');
  return i <= 2 ? p.slice(0, 3) : p.slice(0, i);
}

export function agentDir(installDir: string): string {
  return `${installDir.replace(/\\+$/, '')}\\agent`;
}

function inFolder(folder: string, program: string, args: string): string {
  return `cd /d ${quotePath(folder)} && ${quotePath(program)}${args ? ` ${args}` : ''}`;
}

/** The documented arguments of the installer's three programs (the push and the manual lines share them). */
export const windowsArgs = {
  extract: (into: string) => `/q /x:${quotePath(into)}`,
  install: (installDir: string) => `/Role "MS" /InstallLocation ${quotePath(installDir)} /Platform "VmWare" /Silent`,
  /** Arguments already quoted by the caller (the manual lines carry placeholders). */
  register: (csEndpoint: string, passphraseFile: string) => `/CSEndPoint ${csEndpoint} /PassphraseFilePath ${passphraseFile}`,
};

function extractLine(installerExe: string, into: string): string {
  return inFolder(windowsDirname(installerExe), installerExe, windowsArgs.extract(into));
}

function installLine(extracted: string, installDir: string): string {
  return inFolder(extracted, `${extracted}\\UnifiedAgent.exe`, windowsArgs.install(installDir));
}

export const windowsCommands = {
  /** The token's groups and integrity level: an elevated administrator has Administrators and High integrity. */
  whoamiGroups: () => 'whoami /groups /fo csv /nh',
  regQuery: (key: string, value?: string) => (value === undefined ? `reg query ${quotePath(key)}` : `reg query ${quotePath(key)} /v ${cmdQuote(value)}`),
  sha256: (file: string) => `certutil -hashfile ${quotePath(file)} SHA256`,
  /** Free bytes of the volume holding `dir` (last line of the listing; /-c: no thousands separators). */
  freeBytes: (dir: string) => `dir /-c ${quotePath(dir)}`,
  // No property list: commas are argument separators to cmd.exe; /value prints Name=Value lines.
  memory: () => 'wmic OS get /value',
  extract: extractLine,
  install: installLine,
  /**
   * Both in one line: `&&` ends it at the first command that fails, so the line exits with the
   * extraction's code when `echo <marker>` did not run, and with UnifiedAgent.exe's when it did.
   */
  extractAndInstall: (installerExe: string, extracted: string, installDir: string, marker: string) =>
    `${extractLine(installerExe, extracted)} && echo ${marker} && ${installLine(extracted, installDir)}`,
  register: (installDir: string, csEndpoint: string, passphraseFile: string) =>
    inFolder(agentDir(installDir), `${agentDir(installDir)}\\UnifiedAgentConfigurator.exe`, windowsArgs.register(cmdQuote(csEndpoint), quotePath(passphraseFile))),
  uninstall: () => `MsiExec.exe /qn /x ${PRODUCT_CODE} /L+*V ${quotePath(UNINSTALL_LOG)}`,
  vssUninstall: (installDir: string) => `cd /d ${quotePath(agentDir(installDir))} && InMageVSSProvider_Uninstall.cmd`,
  vssInstall: (installDir: string) => `cd /d ${quotePath(agentDir(installDir))} && InMageVSSProvider_Install.cmd`,
};

export interface RegValue { type: string; data: string }

/**
 * Parses `reg query` output: the values of the first key listed (`    Name    REG_SZ    Data`), by name
 * in lower case. Subkeys (lines that are full key paths) are ignored.
 */
export function parseRegQuery(text: string): Map<string, RegValue> {
  const out = new Map<string, RegValue>();
  let keys = 0;
  for (const raw of text.split(/\r?\n/)) {
    if (/^HKEY_/i.test(raw)) { keys++; if (keys > 1) break; continue; }
    const m = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(raw);
    if (m) out.set((m[1] as string).toLowerCase(), { type: m[2] as string, data: (m[3] ?? '').trimEnd() });
  }
  return out;
}

export function regString(values: Map<string, RegValue>, name: string): string | undefined {
  return values.get(name.toLowerCase())?.data;
}

export interface TokenGroups {
  /** An elevated administrator: Administrators in the token and a High (or System) integrity level. */
  admin: boolean;
  /** BUILTIN\Administrators (S-1-5-32-544) is in the token (enabled, or "deny only" when UAC filtered it). */
  administratorsMember: boolean;
  /** How the Administrators group appears, in the machine's display language, for the error. */
  administratorsAttributes: string | null;
  /** The integrity level's label (display language) and SID (S-1-16-8192 Medium, S-1-16-12288 High). */
  integrity: string | null;
  integritySid: string | null;
}

const ADMINISTRATORS_SID = 'S-1-5-32-544';
/** S-1-16-12288, the High Mandatory Level: the token is elevated (a filtered token is Medium, 8192). */
const HIGH_INTEGRITY_RID = 12288;

/**
 * Parses `whoami /groups /fo csv /nh` by SIDs, never by words: group names, the Attributes column and
 * the label names are in the machine's display language ("Aktivierte Gruppe", "Groupe activé"), the
 * SIDs are not. Columns: name, type, SID, attributes.
 */
export function parseWhoamiGroups(text: string): TokenGroups {
  let administratorsAttributes: string | null = null;
  let administratorsMember = false;
  let integrity: string | null = null;
  let integritySid: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const cols = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => (m[1] as string).replace(/""/g, '"'));
    if (cols.length < 4) continue;
    const sid = (cols[2] as string).toUpperCase();
    if (sid === ADMINISTRATORS_SID) { administratorsMember = true; administratorsAttributes = cols[3] as string; }
    if (/^S-1-16-\d+$/.test(sid)) { integrity = cols[0] as string; integritySid = sid; }
  }
  const rid = integritySid === null ? 0 : Number(integritySid.slice('S-1-16-'.length));
  return { admin: administratorsMember && rid >= HIGH_INTEGRITY_RID, administratorsMember, administratorsAttributes, integrity, integritySid };
}

/** The SHA-256 in `certutil -hashfile <f> SHA256` output (older versions print the bytes space-separated). */
export function parseCertutilSha256(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const hex = line.replace(/\s+/g, '');
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return hex.toLowerCase();
  }
  return null;
}

/** Free bytes from the last line of `dir /-c` ("  3 Dir(s)  52613349376 bytes free", in any language). */
export function parseDirFreeBytes(text: string): number | null {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  const m = last === undefined ? null : /(\d+)\D*$/.exec(last);
  return m ? Number(m[1]) : null;
}
