// Quoting for the guests' shells, checked against independent parsers: a real POSIX sh (dash) for
// shQuote, and the simulator's strict cmd.exe + C-runtime splitter for cmdQuote. Hostile values either
// arrive as exactly one argument, byte for byte, or are refused before any command is built.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cmdCommand, cmdQuote, shCommand, shQuote } from '../../src/transports/shell-quote.ts';
import { linuxCommands } from '../../src/pipeline/linux/commands.ts';
import { parseCmdLine } from '../lab/windows-cmdline.ts';

const HOSTILE = [
  "plain", "with space", "it's", "a'b'c", '"double"', '$(reboot)', '`reboot`', '${IFS}', 'a;rm -rf /', 'a && b', 'a|b', 'a>b', 'a<b',
  '*', '?', '[a-z]', '~root', '-rf', '--', 'back\\slash', 'new\nline', 'tab\there', '#comment', '!bang', '{a,b}', 'semi;colon', 'é ü 中文', '',
];

/** What argv the shell hands a program for this command line. */
function shArgv(commandLine: string): string[] {
  const printed = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${commandLine}`], { encoding: 'utf8' });
  return printed.split('\0').slice(0, -1);
}

describe('shQuote (POSIX sh)', () => {
  for (const value of HOSTILE) {
    it(`passes ${JSON.stringify(value)} as one argument, unchanged`, () => {
      assert.deepEqual(shArgv(shQuote(value)), [value]);
    });
  }
  it('refuses NUL', () => assert.throws(() => shQuote('a\0b'), /NUL/));
  it('a whole command keeps every argument apart', () => {
    assert.deepEqual(shArgv(shCommand('one two', "th'ree", '$(x)')), ['one two', "th'ree", '$(x)']);
  });
  it('the Linux step commands quote the paths they are given', () => {
    const evil = "/tmp/x'; touch /tmp/pwned; '";
    const cmd = linuxCommands.removeTree(evil);
    assert.deepEqual(shArgv(cmd.replace(/^rm -rf /, '')), [evil]);
    assert.match(linuxCommands.register('/usr/local/ASR', '10.0.0.4', '/tmp/s/passphrase.txt'), /^\/usr\/local\/ASR\/Vx\/bin\/UnifiedAgentConfigurator\.sh -i 10\.0\.0\.4 -P \/tmp\/s\/passphrase\.txt$/);
  });
});

describe('cmdQuote (cmd.exe and the C runtime)', () => {
  const program = 'C:\\Temp\\tool.exe';
  const accepted = ['plain', 'with space', 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery', 'a&b', 'a|b', 'a>b', 'a<b', 'semi;colon', 'comma,eq=1', "it's", 'trailing\\', 'é ü 中文', ''];
  for (const value of accepted) {
    it(`passes ${JSON.stringify(value)} as one argument, unchanged`, () => {
      if (value === '') {
        // An empty argument is quoted as "", which the strict simulator refuses on purpose (nothing we send is empty).
        assert.equal(cmdQuote(value), '""');
        return;
      }
      const steps = parseCmdLine(`cd /d C:\\ && ${cmdQuote(program)} ${cmdQuote(value)}`);
      assert.equal(steps.length, 2);
      assert.deepEqual(steps[1]?.command.args, [value]);
    });
  }
  for (const value of ['%PATH%', '!x!', 'a"b', 'line\nbreak', 'nul\0', 'cr\r']) {
    it(`refuses ${JSON.stringify(value)} (cmd.exe would expand or split it even inside quotes)`, () => {
      assert.throws(() => cmdQuote(value), /cannot be passed safely/);
    });
  }
  it('a whole command keeps every argument apart', () => {
    const steps = parseCmdLine(`cd /d C:\\ && ${cmdCommand(program, '/Role', 'MS', '/InstallLocation', 'C:\\Program Files (x86)\\ASR', '/Silent')}`);
    assert.deepEqual(steps[1]?.command.args, ['/Role', 'MS', '/InstallLocation', 'C:\\Program Files (x86)\\ASR', '/Silent']);
  });
});
