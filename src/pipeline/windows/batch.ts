// Several cmd.exe commands in one command line (one WinRM Command/Receive/Signal round, or one OpenSSH
// exec, instead of one per command), each part's output between nonce-marked lines and parsed strictly.
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { commandFailed, newNonce, tail } from '../output.ts';
import type { WindowsGuest } from './windows-guest.ts';

/** One command of a batch; `name` keys its section (lower-case letters, digits, dashes). */
export interface BatchPart { name: string; command: string }

/** What a part printed on stdout, and whether it exited 0. */
export interface PartResult { output: string; ok: boolean }

/** cmd.exe's limit for a command line (8191 characters); a longer line would be cut, not run. */
const CMD_LINE_MAX = 8191;

/**
 * The batched line: per part `echo <nonce> begin <name> & <command> && echo <nonce> end <name> ok || echo
 * <nonce> end <name> failed`, parts joined with `&`. Why this form and not `%ERRORLEVEL%`: cmd.exe expands
 * `%VAR%` once, when it parses the whole line, so every part would report the exit code from before the
 * line ran; `!ERRORLEVEL!` needs delayed expansion (`cmd /v:on /c "…"`), a nested cmd whose quoting
 * exposes the inner quoted paths to the outer parse. `&&` and `||` are decided when they run, on the
 * previous command's exit code (non-zero, negative included, is failure); they bind tighter than `&` and
 * equally among themselves, left to right, so a part that fails prints `failed` and the next part runs.
 * The price: a part reports success or failure, not its exit code. So only commands whose exit codes
 * mean just that are batched (reg, whoami, dir, certutil, wmic); the installer, the configurator, MsiExec
 * and the VSS scripts, whose codes carry meaning, run alone.
 */
export function batchLine(nonce: string, parts: readonly BatchPart[]): string {
  const line = parts.map((p) => {
    if (!/^[a-z0-9-]+$/.test(p.name)) throw new Error(`bad part name ${p.name}`);
    // A lone `&` or a `||` outside quotes would regroup the line: only `&&` chains may be parts.
    if (/&|\|\|/.test(p.command.replace(/"[^"]*"/g, '').replace(/&&/g, ''))) throw new Error(`part ${p.name} has & or || of its own`);
    return `echo ${nonce} begin ${p.name} & ${p.command} && echo ${nonce} end ${p.name} ok || echo ${nonce} end ${p.name} failed`;
  }).join(' & ');
  if (line.length > CMD_LINE_MAX) throw new Error(`batched command line of ${line.length} characters (cmd.exe takes ${CMD_LINE_MAX})`);
  return line;
}

/**
 * Splits a batch's stdout into its parts, strictly: every begin line needs its end line (echo prints the
 * spaces before the next operator, so both may end in blanks), no part twice, no part inside another.
 * A part's output that does not end in a line break runs into its end marker: that text is still its.
 */
export function parseBatch(stdout: string, nonce: string): Map<string, PartResult> {
  const out = new Map<string, PartResult>();
  const begin = new RegExp(`^${nonce} begin ([a-z0-9-]+)\\s*$`);
  const end = new RegExp(`^(.*?)${nonce} end ([a-z0-9-]+) (ok|failed)\\s*$`);
  let open: { name: string; lines: string[] } | null = null;
  for (const line of stdout.split(/\r?\n/)) {
    const b = begin.exec(line);
    const e = b ? null : end.exec(line);
    if (b) {
      if (open) throw new Error(`part ${b[1]} begins inside part ${open.name}`);
      if (out.has(b[1] as string)) throw new Error(`part ${b[1]} appears twice`);
      open = { name: b[1] as string, lines: [] };
    } else if (e) {
      if (open === null || open.name !== e[2]) throw new Error(`end of part ${e[2]} without its begin`);
      if (e[1]) open.lines.push(e[1]);
      out.set(open.name, { output: open.lines.join('\r\n'), ok: e[3] === 'ok' });
      open = null;
    } else if (line.includes(nonce)) {
      throw new Error(`a marker line that does not parse: ${JSON.stringify(line)}`);
    } else if (open) {
      open.lines.push(line);
    }
  }
  if (open) throw new Error(`part ${open.name} has no end marker`);
  return out;
}

/** The parts of one batch, by name; asking for a part that did not report is a command failure naming it. */
export class BatchResult {
  constructor(private readonly parts: Map<string, PartResult>, private readonly commands: ReadonlyMap<string, string>, readonly stderr: string) {}

  has(name: string): boolean {
    return this.parts.has(name);
  }

  part(name: string, what: string): PartResult {
    const p = this.parts.get(name);
    if (!p) throw new PushError(Codes.CommandFailed, { what, reason: `the batched command line did not report part ${name} (${this.commands.get(name) ?? 'not asked for'})`, stderr: tail(this.stderr, 20) });
    return p;
  }

  /**
   * A part that had to succeed, failing as a command that had to exit 0 fails (99020 with its output; the
   * stderr is the whole line's, as cmd.exe gives the parts one stream).
   */
  ok(name: string, what: string): string {
    const p = this.part(name, what);
    if (!p.ok) throw commandFailed({ code: 'non-zero', stdout: p.output, stderr: this.stderr }, what);
    return p.output;
  }
}

/** Runs the parts as one command line; markers that are missing or do not parse fail it (99020). */
export async function runBatch(guest: WindowsGuest, parts: readonly BatchPart[], label: string): Promise<BatchResult> {
  const nonce = newNonce();
  const res = await guest.run(batchLine(nonce, parts), { label: `${label}: ${parts.map((p) => p.command).join(' ; ')}` });
  let sections: Map<string, PartResult>;
  try {
    sections = parseBatch(res.stdout, nonce);
  } catch (e) {
    throw new PushError(Codes.CommandFailed, { what: label, reason: (e as Error).message, exitCode: res.code, stderr: tail(res.stderr, 20) });
  }
  const missing = parts.filter((p) => !sections.has(p.name)).map((p) => p.name);
  if (missing.length > 0) {
    throw new PushError(Codes.CommandFailed, { what: label, reason: `the batched command line did not report ${missing.join(', ')}`, exitCode: res.code, stdout: tail(res.stdout, 20), stderr: tail(res.stderr, 20) });
  }
  return new BatchResult(sections, new Map(parts.map((p) => [p.name, p.command])), res.stderr);
}
