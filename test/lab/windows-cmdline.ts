// How cmd.exe and the Microsoft C runtime split a command line, implemented strictly for the Windows
// guest simulator: whatever real cmd.exe or a program's argv parser could read differently from what
// the sender meant is refused (CommandLineError), so a test fails on our quoting instead of a guest
// doing something else. What is refused, and why:
//   - a line that starts with `"`: WinRS and Win32-OpenSSH run `cmd.exe /c <line>`, and cmd /c strips
//     the first and the last quote of such a line (cmd /?, "old behavior");
//   - `%` and `!` anywhere (expanded even inside quotes), `^` (escape), CR/LF/NUL, unbalanced quotes;
//   - unquoted `( ) < > | ; , =` (block, redirection, pipe, and internal-command delimiters);
//   - for programs (C runtime rules): an odd run of backslashes before a quote (a literal quote), `""`
//     inside quotes (a literal quote), an empty argument;
//   - for internal commands (cd, dir, mkdir, rmdir): any backslash right before a quote (cmd does not
//     unescape, so a doubled trailing backslash stays doubled);
//   - echo of anything but letters, digits, spaces, dots and dashes (quotes, `echo.`, `echo on` differ).
// Operators between commands: `&&`, `||` and `&`. `&&` and `||` bind tighter than `&` and equally among
// themselves, left to right, and are decided when they run (on the previous command's exit code): so
// running the commands in order, each `&&` / `||` looking at the last exit code, is what cmd.exe does.
// echo prints what follows `echo ` up to the operator, the spaces before the operator included.

export class CommandLineError extends Error {
  constructor(message: string, readonly line: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

export interface ParsedCommand {
  /** The command's text as cmd.exe hands it on (operators removed, trimmed). */
  text: string;
  /** The program as cmd.exe finds it: the first token, quotes removed. */
  program: string;
  /** Arguments after the program, split by the C runtime's rules (programs) or cmd's (internal commands). */
  args: string[];
}

export interface CommandStep {
  command: ParsedCommand;
  /** How this command is joined to the previous one (undefined for the first). */
  op?: '&&' | '||' | '&';
}

export const INTERNAL_COMMANDS = new Set(['cd', 'chdir', 'dir', 'mkdir', 'md', 'rmdir', 'rd', 'echo']);

/** Splits a line into commands at unquoted `&&`, `||`, `&`, refusing what cmd would treat specially. */
export function parseCmdLine(line: string): CommandStep[] {
  if (/[\r\n\0]/.test(line)) throw new CommandLineError('line breaks and NUL end a cmd.exe command line early', line);
  if (/[%!]/.test(line)) throw new CommandLineError('cmd.exe expands % (and ! with delayed expansion) even inside quotes', line);
  if (line.includes('^')) throw new CommandLineError('^ is cmd.exe\'s escape character', line);
  if (line.trimStart().startsWith('"')) {
    throw new CommandLineError('a line that starts with a quote loses its first and last quote under cmd.exe /c', line);
  }
  const steps: CommandStep[] = [];
  let current = '';
  let quoted = false;
  let op: CommandStep['op'];
  const flush = (next: CommandStep['op']) => {
    const text = current.trim();
    if (text === '') throw new CommandLineError(`empty command ${next ? `before ${next}` : 'at the end'}`, line);
    const command = /^echo\s/i.test(text) ? echoCommand(current.trimStart(), line) : parseCommand(text, line);
    steps.push(op === undefined ? { command } : { command, op });
    op = next;
    current = '';
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '"') { quoted = !quoted; current += c; continue; }
    if (quoted) { current += c; continue; }
    if (c === '&') {
      if (line[i + 1] === '&') { flush('&&'); i++; } else flush('&');
      continue;
    }
    if (c === '|') {
      if (line[i + 1] !== '|') throw new CommandLineError('pipes are not used by pushinstalld', line);
      flush('||');
      i++;
      continue;
    }
    if ('()<>;,='.includes(c)) throw new CommandLineError(`unquoted ${JSON.stringify(c)} is special to cmd.exe`, line);
    current += c;
  }
  if (quoted) throw new CommandLineError('unbalanced double quotes', line);
  flush(undefined);
  return steps;
}

/** `echo <text>`: one argument, the text as echo prints it (trailing spaces before an operator kept). */
function echoCommand(untrimmed: string, line: string): ParsedCommand {
  const printed = untrimmed.slice('echo '.length);
  if (!/^[A-Za-z0-9._-][A-Za-z0-9 ._-]*$/.test(printed) || /^(on|off)\s*$/i.test(printed)) {
    throw new CommandLineError(`echo ${JSON.stringify(printed)}: the simulator models plain words only`, line);
  }
  return { text: untrimmed.trim(), program: untrimmed.slice(0, 4), args: [printed] };
}

function parseCommand(text: string, line: string): ParsedCommand {
  let program: string;
  let rest: string;
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    program = text.slice(1, end);
    rest = text.slice(end + 1);
    if (rest !== '' && !/^\s/.test(rest)) throw new CommandLineError('text right after a quoted program path', line);
  } else {
    const m = /^(\S+)(.*)$/s.exec(text) as RegExpExecArray;
    program = m[1] as string;
    rest = m[2] as string;
    if (program.includes('"')) throw new CommandLineError(`program name with a quote inside: ${program}`, line);
  }
  const name = program.toLowerCase().replace(/\.exe$/, '');
  const args = INTERNAL_COMMANDS.has(name) ? internalArgs(rest, line) : crtArgs(rest, line);
  return { text, program, args };
}

/** Arguments of cmd's own commands: split at unquoted spaces, quotes removed, nothing unescaped. */
function internalArgs(rest: string, line: string): string[] {
  if (/\\"/.test(rest)) throw new CommandLineError('a backslash before a quote stays in the path for cmd.exe\'s internal commands', line);
  const out: string[] = [];
  for (const m of rest.matchAll(/(?:"[^"]*"|[^\s"])+/g)) out.push(m[0].replace(/"/g, ''));
  return out;
}

/** Arguments by the Microsoft C runtime's rules (2008 and later), refusing every case that yields a literal quote. */
export function crtArgs(rest: string, line = rest): string[] {
  const out: string[] = [];
  let arg = '';
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === '\\') {
      let n = 0;
      while (rest[i + n] === '\\') n++;
      if (rest[i + n] === '"') {
        if (n % 2 === 1) throw new CommandLineError('an odd run of backslashes before a quote makes the quote literal', line);
        arg += '\\'.repeat(n / 2);
      } else {
        arg += '\\'.repeat(n);
      }
      inArg = true;
      i += n - 1;
      continue;
    }
    if (c === '"') {
      if (quoted && rest[i + 1] === '"') throw new CommandLineError('"" inside quotes is a literal quote', line);
      quoted = !quoted;
      inArg = true;
      continue;
    }
    if (!quoted && (c === ' ' || c === '\t')) {
      if (inArg) {
        if (arg === '') throw new CommandLineError('an empty argument', line);
        out.push(arg);
      }
      arg = '';
      inArg = false;
      continue;
    }
    arg += c;
    inArg = true;
  }
  if (quoted) throw new CommandLineError('unbalanced double quotes', line);
  if (inArg) {
    if (arg === '') throw new CommandLineError('an empty argument', line);
    out.push(arg);
  }
  return out;
}
