// The Windows guest simulator on its own: its command-line rules (which are the check on our quoting),
// the contract's commands as the pipeline builds them, the programs it answers for, and its C: jail.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  parseCertutilSha256, parseDirFreeBytes, parseRegQuery, parseWhoamiGroups, regString, windowsCommands,
} from '../../src/pipeline/windows/commands.ts';
import { cmdQuote } from '../../src/transports/shell-quote.ts';
import { CommandLineError, crtArgs, parseCmdLine } from './windows-cmdline.ts';
import { WindowsDrive, WindowsPathError } from './windows-fs.ts';
import { buildWindowsInstaller } from './windows-installer.ts';
import { AGENT_KEY, SimulatedWindows, UNINSTALL_KEY } from './windows-machine.ts';

const DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';
const STAGE = 'C:\\Windows\\Temp\\pushinstall-0b5c1d2e-aaaa-bbbb-cccc-123456789abc';

describe('cmd.exe / C runtime command-line rules', () => {
  it('refuses what cmd.exe or a program\'s argv parser would read differently', () => {
    const refused = [
      '"C:\\a b\\x.exe" /q /x:"C:\\y"', // leading quote: cmd /c strips the first and last quote
      'reg query "HKLM\\%PATH%"',
      'echo hi!',
      'reg query HKLM\\a^b',
      'C:\\Program Files (x86)\\x.exe',
      'x.exe "unbalanced',
      'x.exe "C:\\dir\\" next', // odd backslashes before a quote: a literal quote for the C runtime
      'x.exe "say ""hi"""',
      'x.exe | more',
      'x.exe > out.txt',
      'cd /d "C:\\\\"', // cmd's cd does not unescape: the doubled backslash would stay
      'x.exe &&',
    ];
    for (const line of refused) assert.throws(() => parseCmdLine(line), CommandLineError, line);
  });

  it('splits at unquoted operators only, and applies the C runtime\'s backslash rules', () => {
    const steps = parseCmdLine('cd /d "C:\\a & b" && "C:\\a & b\\x.exe" /p "C:\\dir\\\\" /x:"C:\\y z" || whoami & reg query HKLM\\X');
    assert.deepEqual(steps.map((s) => [s.op, s.command.program, s.command.args]), [
      [undefined, 'cd', ['/d', 'C:\\a & b']],
      ['&&', 'C:\\a & b\\x.exe', ['/p', 'C:\\dir\\', '/x:C:\\y z']],
      ['||', 'whoami', []],
      ['&', 'reg', ['query', 'HKLM\\X']],
    ]);
    assert.deepEqual(crtArgs('a\\\\b "c\\\\d" \\\\'), ['a\\\\b', 'c\\\\d', '\\\\'], 'backslashes not before a quote are literal');
  });

  it('echo prints up to the operator, the spaces before it included; only plain words are modelled', () => {
    const steps = parseCmdLine('echo abc begin x-1 & reg query HKLM\\X && echo abc end x-1 ok || echo abc end x-1 failed');
    assert.deepEqual(steps.map((s) => [s.op, s.command.program, s.command.args]), [
      [undefined, 'echo', ['abc begin x-1 ']], ['&', 'reg', ['query', 'HKLM\\X']], ['&&', 'echo', ['abc end x-1 ok ']], ['||', 'echo', ['abc end x-1 failed']],
    ]);
    for (const line of ['echo "quoted"', 'echo on', 'echo a:b', 'echo  two spaces']) assert.throws(() => parseCmdLine(line), CommandLineError, line);
  });

  it('accepts every command the pipeline builds, and reads the arguments the pipeline meant', () => {
    const exe = `${STAGE}\\Microsoft-ASR_UA_9.30.0.0_Windows_GA_22Oct2019_release.exe`;
    const extract = parseCmdLine(windowsCommands.extract(exe, `${STAGE}\\Extracted`));
    assert.deepEqual(extract.map((s) => [s.command.program, s.command.args]), [['cd', ['/d', STAGE]], [exe, ['/q', `/x:${STAGE}\\Extracted`]]]);
    const install = parseCmdLine(windowsCommands.install(`${STAGE}\\Extracted`, DIR));
    assert.deepEqual(install[1]?.command.args, ['/Role', 'MS', '/InstallLocation', DIR, '/Platform', 'VmWare', '/Silent']);
    const register = parseCmdLine(windowsCommands.register(DIR, 'cs.example.com', `${STAGE}\\passphrase.txt`));
    assert.deepEqual(register[1]?.command.args, ['/CSEndPoint', 'cs.example.com', '/PassphraseFilePath', `${STAGE}\\passphrase.txt`]);
    assert.equal(register[1]?.command.program, `${DIR}\\agent\\UnifiedAgentConfigurator.exe`);
    for (const line of [
      windowsCommands.whoamiGroups(), windowsCommands.regQuery(AGENT_KEY), windowsCommands.regQuery(UNINSTALL_KEY, 'DisplayVersion'),
      windowsCommands.sha256(exe), windowsCommands.freeBytes('C:'), windowsCommands.uninstall(), windowsCommands.vssInstall(DIR), windowsCommands.vssUninstall(DIR),
      windowsCommands.extractAndInstall(exe, `${STAGE}\\Extracted`, DIR, '0123456789abcdef01234567 extracted'),
    ]) assert.doesNotThrow(() => parseCmdLine(line), line);
    assert.throws(() => cmdQuote('C:\\100%'), /cannot be passed safely/);
  });
});

describe('simulated Windows machine', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'pi-winsim-'));
  const drive = new WindowsDrive(path.join(base, 'C'));
  mkdirSync(drive.root);
  const m = new SimulatedWindows(drive, { computerName: 'WIN-TEST', windowsVersion: '2012R2', behaviour: { passphrase: 'Pass-1' } });
  const exec = (line: string) => m.execute(line, { username: 'admin' });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('answers reg query, whoami and certutil in the formats the pipeline parses', async () => {
    const os = await exec(windowsCommands.regQuery('HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'));
    assert.equal(os.exitCode, 0);
    assert.equal(regString(parseRegQuery(os.stdout), 'CurrentBuildNumber'), '9600');
    assert.equal((await exec(windowsCommands.regQuery(UNINSTALL_KEY))).exitCode, 1, 'not installed yet');
    assert.equal(parseWhoamiGroups((await exec(windowsCommands.whoamiGroups())).stdout).admin, true);
    m.behaviour.admin = false;
    const filtered = parseWhoamiGroups((await exec(windowsCommands.whoamiGroups())).stdout);
    assert.equal(filtered.admin, false);
    assert.equal(filtered.administratorsAttributes, 'Group used for deny only');
    assert.equal(filtered.integritySid, 'S-1-16-8192');
    m.behaviour.admin = true;
    drive.write('C:\\x.bin', 'abc');
    assert.equal(parseCertutilSha256((await exec(windowsCommands.sha256('C:\\x.bin'))).stdout), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.notEqual((await exec(windowsCommands.sha256('C:\\missing.bin'))).exitCode, 0);
    assert.ok((parseDirFreeBytes((await exec(windowsCommands.freeBytes('C:'))).stdout) ?? 0) > 0);
  });

  it('whoami in German and French: the admin check reads SIDs, so elevation and UAC filtering are told apart in any language', async () => {
    for (const language of ['de-DE', 'fr-FR'] as const) {
      m.behaviour.language = language;
      const out = (await exec(windowsCommands.whoamiGroups())).stdout;
      assert.ok(!/Enabled group/.test(out), `${language} output has no English words`);
      assert.equal(parseWhoamiGroups(out).admin, true, language);
      m.behaviour.admin = false;
      const filtered = parseWhoamiGroups((await exec(windowsCommands.whoamiGroups())).stdout);
      assert.deepEqual([filtered.admin, filtered.administratorsMember, filtered.integritySid], [false, true, 'S-1-16-8192'], language);
      m.behaviour.admin = true;
    }
    delete m.behaviour.language;
  });

  it('extracts, installs, registers from a file, uninstalls with MsiExec; VSS scripts', async () => {
    const exe = `${STAGE}\\setup.exe`;
    drive.mkdirp(STAGE);
    buildWindowsInstaller(drive.resolve(exe), '9.30.0.0', { padKiB: 1 });
    assert.equal((await exec(windowsCommands.extract(exe, `${STAGE}\\Extracted`))).exitCode, 0);
    assert.equal((await exec(windowsCommands.install(`${STAGE}\\Extracted`, DIR))).exitCode, 0);
    assert.equal(m.registry.get(UNINSTALL_KEY, 'DisplayVersion'), '9.30.0.0');
    assert.ok(m.vssInstalled);
    drive.write(`${STAGE}\\passphrase.txt`, 'wrong');
    assert.equal((await exec(windowsCommands.register(DIR, '10.0.0.4', `${STAGE}\\passphrase.txt`))).exitCode, 1);
    drive.write(`${STAGE}\\passphrase.txt`, 'Pass-1');
    assert.equal((await exec(windowsCommands.register(DIR, '10.0.0.4', `${STAGE}\\passphrase.txt`))).exitCode, 0);
    assert.equal(m.registry.get(AGENT_KEY, 'AgentConfigurationStatus'), 'Succeeded');
    assert.equal((await exec(windowsCommands.vssUninstall(DIR))).exitCode, 0);
    assert.ok(!m.vssInstalled);
    m.behaviour.vssInstallExit = 517;
    assert.equal((await exec(windowsCommands.vssInstall(DIR))).exitCode, 517);
    m.behaviour.vssInstallExit = 0;
    assert.equal((await exec(windowsCommands.vssInstall(DIR))).exitCode, 0);
    assert.ok(m.vssInstalled);
    assert.equal((await exec(windowsCommands.uninstall())).exitCode, 0);
    assert.ok(!m.registry.hasKey(UNINSTALL_KEY) && !m.registry.hasKey(AGENT_KEY) && !drive.exists(DIR));
    assert.equal((await exec(windowsCommands.uninstall())).exitCode, 1605, 'unknown product once removed');
    assert.match(drive.read('C:\\ProgramData\\ASRSetupLogs\\UnifiedAgentMSIUninstall.log').toString(), /Removal completed successfully/);
    // Only stand-ins built by the suite run; a random file does not.
    drive.write(`${STAGE}\\random.exe`, 'MZ not a stand-in');
    assert.equal((await exec(`cd /d "${STAGE}" && "${STAGE}\\random.exe" /q`)).exitCode, 216);
    assert.deepEqual(m.refusals, []);
  });

  it('records refused lines instead of running them', async () => {
    const before = m.refusals.length;
    const res = await exec('"C:\\Windows\\Temp\\x.exe" /q');
    assert.equal(res.exitCode, 1);
    assert.match(res.stderr, /SIMULATOR: refused/);
    assert.equal(m.refusals.length, before + 1);
  });

  it('keeps every path inside C:', () => {
    symlinkSync('/etc', path.join(drive.root, 'link'));
    for (const p of ['C:\\Windows\\..\\..\\etc\\passwd', 'D:\\data', '\\\\server\\share\\x', 'C:\\link\\passwd', 'C:\\a<b', 'C:\\NUL', 'C:relative']) {
      assert.throws(() => drive.resolve(p), WindowsPathError, p);
    }
    assert.equal(drive.resolve('c:\\windows\\TEMP'), path.join(drive.root, 'Windows', 'Temp'), 'case-insensitive like NTFS');
  });
});

