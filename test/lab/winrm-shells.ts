// The WinRS side of the lab's WinRM server: shells, commands and their streams (MS-WSMV 3.1.4.5-3.1.4.16).
// What a command line *does* is the `execute` callback's business; this file only runs the protocol:
// the command starts at its first Receive (or once stdin is closed) with the stdin sent so far, a
// Receive waits up to its OperationTimeout and then faults w:TimedOut, output goes back in base64
// chunks that fit the request's MaxEnvelopeSize, and Signal/Delete abort the command's AbortSignal.
import { randomUUID } from 'node:crypto';
import { Action, CMD_RESOURCE_URI, CommandState, NS, SignalCode, child, children, xmlEscape } from '../../src/transports/winrm/index.ts';
import { Faults, fault, reply } from './winrm-soap.ts';
import type { SoapReply, SoapRequest } from './winrm-soap.ts';

export interface ExecuteContext {
  username: string;
  domain: string;
  stdin: Buffer;
  signal: AbortSignal;
  shellId: string;
  commandId: string;
  codepage: number;
}

export interface ExecuteResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type Execute = (commandLine: string, ctx: ExecuteContext) => Promise<ExecuteResult>;

export interface Owner {
  username: string;
  domain: string;
}

export interface ShellStats {
  shells: number;
  openShells: number;
  commands: number;
  receives: number;
  operationTimeouts: number;
  signals: number;
}

/** What a command's exit code reads after Signal terminate / ctrl_c (STATUS_CONTROL_C_EXIT as xs:int). */
export const SIGNALLED_EXIT_CODE = 0xc000013a | 0;
/** Raw output per <rsp:Stream> element. */
const STREAM_CHUNK = 16 * 1024;

class SimCommand {
  readonly abort = new AbortController();
  private readonly stdin: Buffer[] = [];
  stdinEnded = false;
  private started: Promise<void> | null = null;
  result: { exitCode: number; stdout: Buffer; stderr: Buffer } | null = null;
  sent = { stdout: 0, stderr: 0 };
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => { this.finished = resolve; });

  constructor(readonly id: string, readonly commandLine: string, private readonly shell: SimShell) {}

  addInput(data: Buffer, end: boolean): void {
    this.stdin.push(data);
    if (end) this.stdinEnded = true;
  }

  /** Starts the command once; later calls are no-ops. */
  start(execute: Execute): void {
    if (this.started) return;
    const s = this.shell;
    const enc: BufferEncoding = s.codepage === 65001 ? 'utf8' : 'latin1';
    this.started = (async () => {
      try {
        const r = await execute(this.commandLine, {
          username: s.owner.username, domain: s.owner.domain, stdin: Buffer.concat(this.stdin), signal: this.abort.signal,
          shellId: s.id, commandId: this.id, codepage: s.codepage,
        });
        // ExitCode is an xs:int: a DWORD above 2^31 reads negative.
        this.complete(r.exitCode | 0, Buffer.from(r.stdout, enc), Buffer.from(r.stderr, enc));
      } catch (e) {
        // A simulator bug or an unsupported command: visible as a failing command with the reason.
        this.complete(1, Buffer.alloc(0), Buffer.from(`winrm-server: execute failed: ${(e as Error)?.message ?? String(e)}\r\n`, 'utf8'));
      }
    })();
  }

  /** Signal: the process is gone, whatever `execute` still does. */
  kill(): void {
    this.abort.abort(new Error('terminated by a WinRS signal'));
    this.complete(SIGNALLED_EXIT_CODE, Buffer.alloc(0), Buffer.alloc(0));
  }

  private complete(exitCode: number, stdout: Buffer, stderr: Buffer): void {
    if (this.result) return;
    this.result = { exitCode, stdout, stderr };
    this.finished();
  }
}

class SimShell {
  readonly commands = new Map<string, SimCommand>();
  constructor(readonly id: string, readonly owner: Owner, readonly codepage: number, readonly noProfile: boolean) {}
}

export class ShellHost {
  private readonly shells = new Map<string, SimShell>();
  readonly stats: ShellStats = { shells: 0, openShells: 0, commands: 0, receives: 0, operationTimeouts: 0, signals: 0 };

  constructor(private readonly machine: string, private readonly execute: Execute) {}

  /** Handles one WS-Man request of an authenticated user; resolves null if `gone` fires first. */
  async handle(req: SoapRequest, owner: Owner, gone: AbortSignal): Promise<SoapReply | null> {
    const f = (spec: Parameters<typeof fault>[2]) => fault(req, this.machine, spec);
    if (req.resourceUri !== CMD_RESOURCE_URI) return f(Faults.invalidResource(req.resourceUri ?? '(none)'));
    if (req.action === Action.create) return this.create(req, owner);
    const shell = req.shellId !== undefined ? this.shells.get(req.shellId) : undefined;
    if (!shell) return f(Faults.shellNotFound(req.shellId ?? ''));
    if (shell.owner.username.toLowerCase() !== owner.username.toLowerCase() || shell.owner.domain.toLowerCase() !== owner.domain.toLowerCase()) {
      return f(Faults.accessDenied());
    }
    switch (req.action) {
      case Action.delete: return this.delete(req, shell);
      case Action.command: return this.command(req, shell);
      case Action.send: return this.send(req, shell);
      case Action.receive: return this.receive(req, shell, gone);
      case Action.signal: return this.signal(req, shell);
      default: return f(Faults.actionNotSupported(req.action));
    }
  }

  /** Aborts every command (server stop). */
  abortAll(): void {
    for (const shell of this.shells.values()) for (const c of shell.commands.values()) c.kill();
    this.shells.clear();
    this.stats.openShells = 0;
  }

  private create(req: SoapRequest, owner: Owner): SoapReply {
    const shellEl = child(req.body, NS.shell, 'Shell');
    if (!shellEl) return fault(req, this.machine, Faults.invalidRequest('Create without rsp:Shell'));
    const codepage = Number(req.options.get('WINRS_CODEPAGE') ?? '437');
    const noProfile = (req.options.get('WINRS_NOPROFILE') ?? 'FALSE').toUpperCase() === 'TRUE';
    const id = randomUUID().toUpperCase();
    this.shells.set(id, new SimShell(id, owner, Number.isInteger(codepage) ? codepage : 437, noProfile));
    this.stats.shells++;
    this.stats.openShells = this.shells.size;
    const input = child(shellEl, NS.shell, 'InputStreams')?.text.trim() || 'stdin';
    const output = child(shellEl, NS.shell, 'OutputStreams')?.text.trim() || 'stdout stderr';
    return reply(req, [
      `<x:ResourceCreated><a:Address>http://${xmlEscape(this.machine)}:5985/wsman</a:Address><a:ReferenceParameters>`,
      `<w:ResourceURI>${CMD_RESOURCE_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet>`,
      '</a:ReferenceParameters></x:ResourceCreated>',
      `<rsp:Shell><rsp:ShellId>${id}</rsp:ShellId><rsp:ResourceUri>${CMD_RESOURCE_URI}</rsp:ResourceUri>`,
      `<rsp:Owner>${xmlEscape(owner.domain)}\\${xmlEscape(owner.username)}</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>`,
      '<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>',
      `<rsp:InputStreams>${xmlEscape(input)}</rsp:InputStreams><rsp:OutputStreams>${xmlEscape(output)}</rsp:OutputStreams>`,
      '<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>',
    ].join(''));
  }

  private delete(req: SoapRequest, shell: SimShell): SoapReply {
    for (const c of shell.commands.values()) c.kill();
    this.shells.delete(shell.id);
    this.stats.openShells = this.shells.size;
    return reply(req, '');
  }

  private command(req: SoapRequest, shell: SimShell): SoapReply {
    const line = child(req.body, NS.shell, 'CommandLine');
    const command = child(line, NS.shell, 'Command')?.text;
    if (!line || command === undefined) return fault(req, this.machine, Faults.invalidRequest('Command without rsp:CommandLine/rsp:Command'));
    // WinRS runs `cmd.exe /c <Command> <Arguments...>`: the line cmd.exe gets is the two joined by spaces.
    const args = children(line, NS.shell, 'Arguments').map((a) => a.text);
    const commandLine = [command.trim(), ...args].join(' ');
    const id = (line.attrs.get('CommandId') ?? randomUUID()).toUpperCase();
    if (shell.commands.has(id)) return fault(req, this.machine, Faults.invalidRequest(`a command with CommandId ${id} exists`));
    shell.commands.set(id, new SimCommand(id, commandLine, shell));
    this.stats.commands++;
    return reply(req, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
  }

  private send(req: SoapRequest, shell: SimShell): SoapReply {
    const streams = children(child(req.body, NS.shell, 'Send'), NS.shell, 'Stream');
    if (streams.length === 0) return fault(req, this.machine, Faults.invalidRequest('Send without rsp:Stream'));
    for (const s of streams) {
      const cmd = shell.commands.get((s.attrs.get('CommandId') ?? '').toUpperCase());
      if (!cmd) return fault(req, this.machine, Faults.commandNotFound(s.attrs.get('CommandId') ?? ''));
      cmd.addInput(Buffer.from(s.text.trim(), 'base64'), s.attrs.get('End') === 'true');
      if (cmd.stdinEnded) cmd.start(this.execute);
    }
    return reply(req, '<rsp:SendResponse/>');
  }

  private async receive(req: SoapRequest, shell: SimShell, gone: AbortSignal): Promise<SoapReply | null> {
    this.stats.receives++;
    const desired = child(child(req.body, NS.shell, 'Receive'), NS.shell, 'DesiredStream');
    const id = (desired?.attrs.get('CommandId') ?? '').toUpperCase();
    const cmd = shell.commands.get(id);
    if (!cmd) return fault(req, this.machine, Faults.commandNotFound(id));
    cmd.start(this.execute);
    if (!cmd.result) {
      let timer: NodeJS.Timeout | undefined;
      let onGone: (() => void) | undefined;
      await Promise.race([
        cmd.done,
        new Promise<void>((resolve) => { timer = setTimeout(resolve, req.operationTimeoutMs); }),
        new Promise<void>((resolve) => { onGone = () => resolve(); gone.addEventListener('abort', onGone, { once: true }); }),
      ]);
      clearTimeout(timer);
      if (onGone) gone.removeEventListener('abort', onGone);
      if (gone.aborted) return null;
      if (!cmd.result) {
        this.stats.operationTimeouts++;
        return fault(req, this.machine, Faults.timedOut());
      }
    }
    return reply(req, this.output(cmd, req.maxEnvelopeSize));
  }

  /** The next output that fits one envelope; Done with the exit code once everything went out. */
  private output(cmd: SimCommand, maxEnvelopeSize: number): string {
    const r = cmd.result!;
    let budget = Math.floor(((maxEnvelopeSize - 4096) * 3) / 4);
    const parts: string[] = [];
    const stream = (name: 'stdout' | 'stderr', data: Buffer) => {
      while (cmd.sent[name] < data.length && budget > 0) {
        const n = Math.min(STREAM_CHUNK, budget, data.length - cmd.sent[name]);
        const piece = data.subarray(cmd.sent[name], cmd.sent[name] + n);
        parts.push(`<rsp:Stream Name="${name}" CommandId="${cmd.id}">${piece.toString('base64')}</rsp:Stream>`);
        cmd.sent[name] += n;
        budget -= n + 200;
      }
    };
    stream('stdout', r.stdout);
    stream('stderr', r.stderr);
    const complete = cmd.sent.stdout >= r.stdout.length && cmd.sent.stderr >= r.stderr.length;
    if (!complete) {
      parts.push(`<rsp:CommandState CommandId="${cmd.id}" State="${CommandState.running}"/>`);
    } else {
      parts.push(
        `<rsp:Stream Name="stdout" CommandId="${cmd.id}" End="true"></rsp:Stream>`,
        `<rsp:Stream Name="stderr" CommandId="${cmd.id}" End="true"></rsp:Stream>`,
        `<rsp:CommandState CommandId="${cmd.id}" State="${CommandState.done}"><rsp:ExitCode>${r.exitCode}</rsp:ExitCode></rsp:CommandState>`,
      );
    }
    return `<rsp:ReceiveResponse>${parts.join('')}</rsp:ReceiveResponse>`;
  }

  private signal(req: SoapRequest, shell: SimShell): SoapReply {
    const sig = child(req.body, NS.shell, 'Signal');
    const id = (sig?.attrs.get('CommandId') ?? '').toUpperCase();
    const code = child(sig, NS.shell, 'Code')?.text.trim();
    const cmd = shell.commands.get(id);
    if (!cmd) return fault(req, this.machine, Faults.commandNotFound(id));
    if (code !== SignalCode.terminate && code !== SignalCode.ctrl_c && code !== SignalCode.ctrl_break) {
      return fault(req, this.machine, Faults.invalidRequest(`unknown signal ${code ?? '(none)'}`));
    }
    this.stats.signals++;
    cmd.kill();
    // terminate ends the command's life in the shell (pywinrm's cleanup_command sends it after Done).
    if (code === SignalCode.terminate) shell.commands.delete(id);
    return reply(req, '<rsp:SignalResponse/>');
  }
}
