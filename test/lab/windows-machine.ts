// The Windows guest simulator's command semantics: a C: folder (windows-fs.ts), a registry
// (windows-registry.ts), and an interpreter for the cmd.exe command lines of the guest contract
// (guest-contract.md, Windows), parsed strictly (windows-cmdline.ts). The WinRM server and the OpenSSH
// guest both hand it their command lines. It runs only the programs the contract names, and only
// stand-in files the suite built (windows-installer.ts); every line it refuses is recorded, so tests
// can assert that our quoting never needed a second look.
import { createHash } from 'node:crypto';
import { CommandLineError, INTERNAL_COMMANDS, parseCmdLine, type ParsedCommand } from './windows-cmdline.ts';
import { WindowsPathError, type WindowsDrive } from './windows-fs.ts';
import { fail, internalCommand, ok, type Result } from './windows-internal.ts';
import { seedDefenderExclusions, wmic, type GuidanceBehaviour } from './windows-guidance.ts';
import { parseStandIn, standIn } from './windows-installer.ts';
import { Registry } from './windows-registry.ts';
import { whoamiGroupsCsv, type DisplayLanguage } from './windows-whoami.ts';

export type WindowsVersion = '2008' | '2008R2' | '2008R2RTM' | '2012R2' | '2016' | '2019' | '2022';

export const PRODUCT_CODE = '{275197FC-14FD-4560-A5EB-38217F80CBD1}';
export const UNINSTALL_KEY = `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${PRODUCT_CODE}`;
/** Where a 32-bit MSI's Uninstall key lives on 64-bit Windows (the registry's 32-bit view, "Registry Redirector"). */
export const UNINSTALL_KEY_32 = `HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${PRODUCT_CODE}`;
export const AGENT_KEY = 'HKLM\\SOFTWARE\\Wow6432Node\\InMage Systems\\Installed Products\\5';
export const VSS_SERVICE_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Azure Site Recovery VSS Provider';
const OS_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
const ENV_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
export const INSTALLER_LOG = 'C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedAgentInstaller.log';
export const CONFIGURATOR_LOG = 'C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedAgentConfigurator.log';

const VERSIONS: Record<WindowsVersion, { productName: string; build: string; currentVersion: string }> = {
  2008: { productName: 'Windows Server (R) 2008 Standard', build: '6002', currentVersion: '6.0' },
  '2008R2': { productName: 'Windows Server 2008 R2 Standard', build: '7601', currentVersion: '6.1' },
  '2008R2RTM': { productName: 'Windows Server 2008 R2 Standard', build: '7600', currentVersion: '6.1' },
  '2012R2': { productName: 'Windows Server 2012 R2 Datacenter', build: '9600', currentVersion: '6.3' },
  2016: { productName: 'Windows Server 2016 Datacenter', build: '14393', currentVersion: '6.3' },
  2019: { productName: 'Windows Server 2019 Datacenter', build: '17763', currentVersion: '6.3' },
  2022: { productName: 'Windows Server 2022 Datacenter', build: '20348', currentVersion: '6.3' },
};

/** What this guest's installer and account do: every branch of the contract, selectable per guest. */
export interface WindowsBehaviour extends GuidanceBehaviour {
  /** The account's token has BUILTIN\Administrators enabled (default); false: UAC-filtered local account (C$ refused too). */
  admin?: boolean;
  /** The build the installed agent reports after its release (DisplayVersion 9.30.5407.1 for "5407.1"); default: the installer's own version. */
  agentBuild?: string;
  /** The MSI is 32-bit: its Uninstall key is in the 32-bit view (Wow6432Node). */
  msi32?: boolean;
  /** whoami's display language (default en-US). */
  language?: DisplayLanguage;
  /** The self-extractor's exit code (a damaged package when not 0: it lays down nothing). */
  extractExit?: number;
  /** The self-extractor exits 0 but lays down no UnifiedAgent.exe. */
  extractNothing?: boolean;
  /** UnifiedAgent.exe's exit code: 0, 3010, a VSS code (511, 512, 517, 806, 802) or a failure. */
  installExit?: number;
  /** The line a failing installer writes to its log. */
  installMessage?: string;
  /** The passphrase the "configuration server" accepts (undefined: any non-empty one). */
  passphrase?: string;
  /** UnifiedAgentConfigurator.exe's exit code when the passphrase is right. */
  registerExit?: number;
  /** InMageVSSProvider_Install.cmd's exit code. */
  vssInstallExit?: number;
  /** MsiExec's exit code when it removes the agent (e.g. 1603: the removal fails, the agent stays, the log says why). */
  uninstallExit?: number;
  /** Free bytes `dir` reports (the SMB share's free space is Samba's `dfree command`). */
  freeBytes?: number;
  /** How many `certutil -hashfile` answers are wrong (a copy corrupted in transit), counted down. */
  corruptHashes?: number;
  /** UnifiedAgent.exe takes this long (ms) before it does anything; an aborted command stops waiting. */
  installDelayMs?: number;
}

export interface CommandRecord {
  user: string;
  commandLine: string;
  exitCode: number;
  refused?: string;
  /** The commands of the line cmd.exe ran, in order (those an `&&` or `||` skipped left out). */
  ran: string[];
}


function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').replace('Z', '');
}

export class SimulatedWindows {
  readonly registry = new Registry();
  /** Every command line run, in order. */
  readonly commands: CommandRecord[] = [];
  /** Command lines refused because real cmd.exe could read them differently. */
  readonly refusals: string[] = [];
  /** Passphrase files the configurator read (path), to check they were gone afterwards. */
  readonly passphraseFilesRead: string[] = [];
  behaviour: WindowsBehaviour;

  constructor(
    readonly drive: WindowsDrive,
    readonly options: { computerName: string; windowsVersion: WindowsVersion; arch?: 'AMD64' | 'x86'; behaviour?: WindowsBehaviour },
  ) {
    this.behaviour = options.behaviour ?? {};
    const v = VERSIONS[options.windowsVersion];
    this.registry.set(OS_KEY, 'SystemRoot', 'C:\\Windows');
    this.registry.set(OS_KEY, 'CurrentBuildNumber', v.build);
    this.registry.set(OS_KEY, 'CurrentVersion', v.currentVersion);
    this.registry.set(OS_KEY, 'ProductName', v.productName);
    this.registry.set(OS_KEY, 'InstallationType', 'Server');
    this.registry.set(OS_KEY, 'EditionID', 'ServerDatacenter');
    this.registry.set(ENV_KEY, 'PROCESSOR_ARCHITECTURE', options.arch ?? 'AMD64');
    this.registry.set(ENV_KEY, 'NUMBER_OF_PROCESSORS', '2');
    seedDefenderExclusions(this.registry, this.behaviour);
    for (const dir of ['C:\\Windows\\Temp', 'C:\\Windows\\System32', 'C:\\ProgramData', 'C:\\Program Files', 'C:\\Program Files (x86)', 'C:\\Users']) drive.mkdirp(dir);
  }

  /** Runs one command line as cmd.exe /c would, for the WinRM server and the OpenSSH shell. */
  execute = async (commandLine: string, ctx: { username: string; domain?: string; signal?: AbortSignal }): Promise<Result> => {
    const record: CommandRecord = { user: ctx.username, commandLine, exitCode: 0, ran: [] };
    this.commands.push(record);
    const delay = this.behaviour.installDelayMs ?? 0;
    if (delay > 0 && /\\UnifiedAgent\.exe"/i.test(commandLine)) {
      // A long installer, for cancel tests: WinRS terminates the command when the client signals it.
      const stopped = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delay);
        ctx.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(true); }, { once: true });
      });
      if (stopped) { record.exitCode = -1; return fail(-1, 'terminated'); }
    }
    let result: Result;
    try {
      result = this.runLine(commandLine, record.ran);
    } catch (e) {
      if (!(e instanceof CommandLineError) && !(e instanceof WindowsPathError)) throw e;
      record.refused = e.message;
      this.refusals.push(`${e.message}: ${commandLine}`);
      result = fail(1, `SIMULATOR: refused command line (${e.message})`);
    }
    record.exitCode = result.exitCode;
    return result;
  };

  private runLine(line: string, ran: string[]): Result {
    const steps = parseCmdLine(line);
    let cwd = 'C:\\';
    let last: Result = ok();
    const out: string[] = [];
    const err: string[] = [];
    for (const step of steps) {
      if (step.op === '&&' && last.exitCode !== 0) continue;
      if (step.op === '||' && last.exitCode === 0) continue;
      ran.push(step.command.text);
      const res = this.run(step.command, cwd, (next) => { cwd = next; });
      out.push(res.stdout);
      err.push(res.stderr);
      last = res;
    }
    return { exitCode: last.exitCode, stdout: out.join(''), stderr: err.join('') };
  }

  private run(c: ParsedCommand, cwd: string, chdir: (dir: string) => void): Result {
    const name = c.program.toLowerCase();
    const bare = name.replace(/\.exe$/, '');
    if (INTERNAL_COMMANDS.has(bare)) return internalCommand(this.drive, bare, c.args, { cwd, chdir, freeBytes: this.behaviour.freeBytes });
    const isPath = c.program.includes('\\') || c.program.includes(':');
    if (!isPath && this.drive.exists(c.program, cwd) && !this.drive.isDirectory(c.program, cwd)) return this.runFile(`${cwd.replace(/\\+$/, '')}\\${c.program}`, c.args, cwd);
    if (!isPath) {
      switch (bare) {
        case 'reg': return this.reg(c.args);
        case 'whoami': return this.whoami(c.args);
        case 'certutil': return this.certutil(c.args, cwd);
        case 'msiexec': return this.msiexec(c.args);
        case 'wmic': return wmic(c.args, this.behaviour);
        default: return fail(9009, `'${c.program}' is not recognized as an internal or external command,\r\noperable program or batch file.`);
      }
    }
    if (!this.drive.exists(c.program, cwd)) return fail(9009, `'${c.program}' is not recognized as an internal or external command,\r\noperable program or batch file.`);
    return this.runFile(c.program, c.args, cwd);
  }

  private reg(args: string[]): Result {
    if (args[0]?.toLowerCase() !== 'query' || args[1] === undefined) return fail(1, 'ERROR: Invalid syntax.\r\nType "REG /?" for usage.');
    if (args.length === 2) return this.registry.query(args[1]);
    if (args.length === 4 && args[2]?.toLowerCase() === '/v') return this.registry.query(args[1], args[3]);
    return fail(1, 'ERROR: Invalid syntax.\r\nType "REG QUERY /?" for usage.');
  }

  private whoami(args: string[]): Result {
    if (args.map((a) => a.toLowerCase()).join(' ') !== '/groups /fo csv /nh') return fail(1, 'ERROR: Invalid argument/option.');
    return ok(whoamiGroupsCsv(this.behaviour.language ?? 'en-US', this.behaviour.admin ?? true));
  }

  private certutil(args: string[], cwd: string): Result {
    if (args.length !== 3 || args[0]?.toLowerCase() !== '-hashfile' || args[2]?.toUpperCase() !== 'SHA256') return fail(-2147024809, 'CertUtil: -hashfile command FAILED: 0x80070057 (WIN32: 87 ERROR_INVALID_PARAMETER)');
    const file = args[1] as string;
    if (!this.drive.exists(file, cwd) || this.drive.isDirectory(file, cwd)) {
      return fail(-2147024894, 'CertUtil: -hashfile command FAILED: 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)', 'CertUtil: The system cannot find the file specified.\r\n');
    }
    let hash = createHash('sha256').update(this.drive.read(file, cwd)).digest('hex');
    if ((this.behaviour.corruptHashes ?? 0) > 0) {
      this.behaviour.corruptHashes = (this.behaviour.corruptHashes ?? 1) - 1;
      hash = createHash('sha256').update(`corrupted ${hash}`).digest('hex');
    }
    return ok(`SHA256 hash of ${file}:\r\n${hash}\r\nCertUtil: -hashfile command completed successfully.\r\n`);
  }

  private runFile(file: string, args: string[], cwd: string): Result {
    const what = parseStandIn(this.drive.read(file, cwd));
    if (!what) return fail(216, `This version of ${file} is not compatible with the version of Windows you're running.`);
    switch (what.role) {
      case 'installer': return this.extract(args, what.version, cwd);
      case 'unified-agent': return this.unifiedAgent(args, what.version, cwd);
      case 'configurator': return this.configurator(args, cwd);
      case 'vss-install': return this.vssScript(true);
      case 'vss-uninstall': return this.vssScript(false);
    }
  }

  /** `<installer>.exe /q /x:<folder>`: the self-extractor lays down UnifiedAgent.exe. */
  private extract(args: string[], version: string, cwd: string): Result {
    const q = args.find((a) => a.toLowerCase() === '/q');
    const x = args.find((a) => a.toLowerCase().startsWith('/x:'));
    if (args.length !== 2 || !q || !x) return fail(1, `extractor: expected /q /x:<folder>, got ${JSON.stringify(args)}`);
    const into = x.slice(3);
    if (!/^[A-Za-z]:\\/.test(into)) return fail(1, `extractor: /x needs an absolute folder, got ${into}`);
    const exit = this.behaviour.extractExit ?? 0;
    if (exit !== 0) return fail(exit, 'The archive is either in unknown format or damaged.');
    this.drive.mkdirp(into, cwd);
    if (!this.behaviour.extractNothing) this.drive.write(`${into}\\UnifiedAgent.exe`, standIn('unified-agent', version));
    this.drive.write(`${into}\\MobilityServiceSetup.msi.txt`, `Mobility Service ${version} (simulated payload)\r\n`);
    return ok();
  }

  private log(file: string, line: string): void {
    this.drive.append(file, `${timestamp()} ${line}\r\n`);
  }

  /** `UnifiedAgent.exe /Role "MS" /InstallLocation "<dir>" /Platform "VmWare" /Silent`. */
  private unifiedAgent(args: string[], version: string, cwd: string): Result {
    const opts = new Map<string, string>();
    for (let i = 0; i < args.length; i++) {
      const a = (args[i] as string).toLowerCase();
      if (a === '/silent') { opts.set('silent', ''); continue; }
      if (!['/role', '/installlocation', '/platform'].includes(a) || args[i + 1] === undefined) return fail(1, `UnifiedAgent.exe: unexpected argument ${JSON.stringify(args[i])}`);
      opts.set(a.slice(1), args[++i] as string);
    }
    const dir = opts.get('installlocation');
    if (opts.get('role') !== 'MS' || opts.get('platform') !== 'VmWare' || !opts.has('silent') || !dir || !/^[A-Za-z]:\\/.test(dir)) {
      return fail(1, `UnifiedAgent.exe: expected /Role MS /InstallLocation <dir> /Platform VmWare /Silent, got ${JSON.stringify(args)}`);
    }
    this.log(INSTALLER_LOG, `Starting Mobility Service ${version} installation (role MS, platform VmWare) into ${dir}`);
    if (!(this.behaviour.admin ?? true)) {
      this.log(INSTALLER_LOG, 'ERROR: the installer needs administrator rights.');
      return fail(1603, 'Fatal error during installation.');
    }
    const exit = this.behaviour.installExit ?? 0;
    const vssFailed = [511, 512, 517, 806, 802].includes(exit);
    if (exit !== 0 && exit !== 3010 && !vssFailed) {
      this.log(INSTALLER_LOG, `ERROR: ${this.behaviour.installMessage ?? 'simulated installer failure'}`);
      this.log(INSTALLER_LOG, `Installation failed with exit code ${exit}.`);
      return fail(exit, 'Installation failed.');
    }
    const agent = this.layDownAgent(version, dir, cwd);
    this.log(INSTALLER_LOG, `Mobility Service ${version} installed.`);
    if (vssFailed) {
      this.registry.deleteKey(VSS_SERVICE_KEY);
      this.log(INSTALLER_LOG, `ERROR: VSS provider installation failed with exit code ${exit}.`);
      return fail(exit, 'VSS provider installation failed.');
    }
    this.registry.set(VSS_SERVICE_KEY, 'ImagePath', `"${agent}\\InMageVSSProvider.exe"`);
    this.log(INSTALLER_LOG, 'VSS provider installed.');
    if (exit === 3010) {
      this.log(INSTALLER_LOG, 'A reboot is required to load the filter driver.');
      return { exitCode: 3010, stdout: '', stderr: '' };
    }
    return ok();
  }

  /** What UnifiedAgent.exe leaves behind (the agent folder with its programs and scripts, the registry keys); returns the agent folder. */
  private layDownAgent(version: string, dir: string, cwd = 'C:\\'): string {
    const agent = `${dir.replace(/\\+$/, '')}\\agent`;
    this.drive.mkdirp(agent, cwd);
    this.drive.write(`${agent}\\UnifiedAgentConfigurator.exe`, standIn('configurator', version));
    this.drive.write(`${agent}\\InMageVSSProvider_Install.cmd`, standIn('vss-install', version));
    this.drive.write(`${agent}\\InMageVSSProvider_Uninstall.cmd`, standIn('vss-uninstall', version));
    const key = this.behaviour.msi32 ? UNINSTALL_KEY_32 : UNINSTALL_KEY;
    const build = this.behaviour.agentBuild;
    this.registry.set(key, 'DisplayName', 'Microsoft Azure Site Recovery Mobility Service/Master Target Server');
    this.registry.set(key, 'DisplayVersion', build === undefined ? version : `${version.split('.').slice(0, 2).join('.')}.${build}`);
    this.registry.set(key, 'Publisher', 'Microsoft Corporation');
    this.registry.set(key, 'InstallLocation', dir);
    this.registry.set(AGENT_KEY, 'InstallDirectory', dir);
    this.registry.set(AGENT_KEY, 'Version', version);
    this.registry.set(AGENT_KEY, 'Role', 'MS');
    this.registry.set(AGENT_KEY, 'PostInstallActions', 'Succeeded');
    return agent;
  }

  /** An agent installed (and registered with `csEndpoint`) before the test, as an earlier push would have left it. */
  preinstallAgent(version: string, dir: string, o: { csEndpoint?: string; vss?: boolean } = {}): void {
    const agent = this.layDownAgent(version, dir);
    if (o.vss ?? true) this.registry.set(VSS_SERVICE_KEY, 'ImagePath', `"${agent}\\InMageVSSProvider.exe"`);
    if (o.csEndpoint !== undefined) {
      this.registry.set(AGENT_KEY, 'CSEndPoint', o.csEndpoint);
      this.registry.set(AGENT_KEY, 'AgentConfigurationStatus', 'Succeeded');
    }
  }

  /** `UnifiedAgentConfigurator.exe /CSEndPoint <cs> /PassphraseFilePath <file>`. */
  private configurator(args: string[], cwd: string): Result {
    const lower = args.map((a) => a.toLowerCase());
    const cs = args[lower.indexOf('/csendpoint') + 1];
    const file = args[lower.indexOf('/passphrasefilepath') + 1];
    if (args.length !== 4 || !lower.includes('/csendpoint') || !lower.includes('/passphrasefilepath') || !cs || !file) {
      return fail(1, `UnifiedAgentConfigurator.exe: expected /CSEndPoint <cs> /PassphraseFilePath <file>, got ${args.length} arguments`);
    }
    if (!this.registry.hasKey(AGENT_KEY)) return fail(1, 'UnifiedAgentConfigurator.exe: the agent is not installed.');
    if (!this.drive.exists(file, cwd)) {
      this.log(CONFIGURATOR_LOG, `ERROR: passphrase file ${file} not found.`);
      return fail(1, 'Registration failed: the passphrase file was not found.');
    }
    this.passphraseFilesRead.push(file);
    const given = this.drive.read(file, cwd).toString('utf8').replace(/\r?\n$/, '');
    const expected = this.behaviour.passphrase;
    if (given === '' || (expected !== undefined && given !== expected)) {
      this.log(CONFIGURATOR_LOG, `ERROR: registration with ${cs} failed: the passphrase is not valid.`);
      return fail(1, 'Registration failed: invalid passphrase.');
    }
    const exit = this.behaviour.registerExit ?? 0;
    if (exit !== 0) {
      this.log(CONFIGURATOR_LOG, `ERROR: registration with ${cs} failed with exit code ${exit}.`);
      return fail(exit, 'Registration failed.');
    }
    this.registry.set(AGENT_KEY, 'CSEndPoint', cs);
    this.registry.set(AGENT_KEY, 'AgentConfigurationStatus', 'Succeeded');
    this.log(CONFIGURATOR_LOG, `Registered with the configuration server ${cs}.`);
    return ok('Registration succeeded.\r\n');
  }

  /** `MsiExec.exe /qn /x {275197FC-...} /L+*V "<log>"` (asr-facts.md §7). */
  private msiexec(args: string[]): Result {
    const lower = args.map((a) => a.toLowerCase());
    const product = args[lower.indexOf('/x') + 1];
    const logFile = args[lower.indexOf('/l+*v') + 1];
    if (args.length !== 5 || lower[0] !== '/qn' || !lower.includes('/x') || !lower.includes('/l+*v') || !logFile) return fail(1639, 'Invalid command line argument.');
    const key = this.installedUninstallKey;
    if (product?.toUpperCase() !== PRODUCT_CODE || key === undefined) {
      this.log(logFile, `MSI (s): product ${product} is not installed.`);
      return fail(1605, '');
    }
    const exit = this.behaviour.uninstallExit ?? 0;
    if (exit !== 0) {
      this.log(logFile, 'MSI (s): Executing op: ServiceControl(,Name=svagents,Action=2)');
      this.log(logFile, 'MSI (s): Error 1921. Service \'InMage Scout Application Service\' (svagents) could not be stopped. Verify that you have sufficient privileges to stop system services.');
      this.log(logFile, `MSI (s): Product: Microsoft Azure Site Recovery Mobility Service/Master Target Server -- Removal failed (${exit}).`);
      return fail(exit, '');
    }
    const dir = this.registry.get(key, 'InstallLocation');
    if (dir && this.drive.exists(dir)) this.drive.remove(dir);
    this.registry.deleteKey(key);
    this.registry.deleteKey(AGENT_KEY);
    this.registry.deleteKey(VSS_SERVICE_KEY);
    this.log(logFile, 'MSI (s): Product: Microsoft Azure Site Recovery Mobility Service/Master Target Server -- Removal completed successfully.');
    return ok();
  }

  private vssScript(install: boolean): Result {
    if (!install) {
      this.registry.deleteKey(VSS_SERVICE_KEY);
      return ok('VSS provider uninstalled.\r\n');
    }
    const exit = this.behaviour.vssInstallExit ?? 0;
    if (exit !== 0) return fail(exit, `VSS provider installation failed with exit code ${exit}.`);
    this.registry.set(VSS_SERVICE_KEY, 'ImagePath', '"InMageVSSProvider.exe"');
    return ok('VSS provider installed.\r\n');
  }

  /** The agent's Uninstall key, in whichever registry view holds it. */
  get installedUninstallKey(): string | undefined {
    return [UNINSTALL_KEY, UNINSTALL_KEY_32].find((k) => this.registry.hasKey(k));
  }

  /** Whether the VSS provider service is registered (installed). */
  get vssInstalled(): boolean {
    return this.registry.hasKey(VSS_SERVICE_KEY);
  }
}
