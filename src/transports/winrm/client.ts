// The WinRM command runner of a Windows guest channel: one authenticated connection and one cmd shell
// (UTF-8 code page, no profile) reused for every command; each exec is Command, Send (stdin), Receive
// until Done. Aborting or timing out drops the connection at once, terminates the command over a fresh
// one, then rejects.
import { randomUUID } from 'node:crypto';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { CommandChannel, ExecOptions, ExecResult, WinrmConnectOptions } from '../transport.ts';
import { WsmanFault, callerError, toPushError } from './errors.ts';
import type { ErrorContext } from './errors.ts';
import { WinrmHttpTransport } from './http-transport.ts';
import { operation } from './operation.ts';
import { WinrsProtocol, isOperationTimeout } from './protocol.ts';
import { SerialQueue } from './serial.ts';

const CODEPAGE_UTF8 = 65001;
const TERMINATE_TIMEOUT_MS = 5_000;

export class WinrmClient implements CommandChannel {
  private readonly queue = new SerialQueue();
  private shell: string | null = null;
  private closed = false;

  private constructor(
    private readonly transport: WinrmHttpTransport,
    private readonly protocol: WinrsProtocol,
    private readonly where: Omit<ErrorContext, 'operation'>,
  ) {}

  static async connect(o: WinrmConnectOptions): Promise<WinrmClient> {
    if (o.transport !== 'http' && o.transport !== 'https') throw new TypeError(`WinRM transport must be http or https, not ${String(o.transport)}`);
    const https = o.transport === 'https';
    if (https && !o.verifyCertificate) throw new TypeError('WinRM over https needs verifyCertificate (pin the certificate)');
    const port = o.port ?? (https ? 5986 : 5985);
    const credentials = { username: o.username, password: o.password, ...(o.domain !== undefined ? { domain: o.domain } : {}) };
    const transport = new WinrmHttpTransport({
      host: o.host, port, https, credentials, encrypt: !https, connectTimeoutMs: o.timeoutMs, legacyTls: https && o.winrmTls === 'legacy',
      ...(o.verifyCertificate ? { verifyCertificate: o.verifyCertificate } : {}),
    });
    const protocol = new WinrsProtocol((soap, opts) => transport.send(soap, opts), {
      endpoint: transport.endpoint,
      operationTimeoutMs: o.operationTimeoutMs ?? 20_000,
    });
    const where = { host: o.host, port, transport: o.transport, account: o.domain !== undefined ? `${o.domain}\\${o.username}` : o.username };
    const client = new WinrmClient(transport, protocol, where);
    const op = operation(o.signal, o.timeoutMs, () => new PushError(Codes.RemoteExecBlocked,
      { host: o.host, port, transport: o.transport, operation: 'connect', reason: `no WinRM answer within ${o.timeoutMs} ms` },
      { message: `WinRM on ${o.host}:${port} (${o.transport}) did not answer within ${o.timeoutMs} ms` }));
    try {
      await client.ensureShell(op.signal, o.timeoutMs);
      return client;
    } catch (e) {
      transport.close();
      if (op.signal.aborted) throw op.signal.reason as PushError;
      throw callerError(e, { ...where, operation: 'connect' });
    } finally {
      op.dispose();
    }
  }

  /** The WinRS shell in use (a new one is opened if the guest dropped it). */
  get shellId(): string | null {
    return this.shell;
  }

  /** Connections opened so far (1 unless the guest closed one or a command was aborted). */
  get connections(): number {
    return this.transport.connections;
  }

  /**
   * Runs a complete cmd.exe command line (quoted by the caller: shell-quote.ts) and returns its exit
   * code and UTF-8 output. Never throws on a non-zero exit. `stdin` is sent whole, then closed.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw toPushError(new Error('the WinRM client is closed'), { ...this.where, operation: 'exec' });
    const timeoutMs = options.timeoutMs;
    const op = operation(options.signal, timeoutMs, () => new PushError(Codes.Timeout, { phase: 'exec', timeoutMs, host: this.where.host }));
    try {
      return await this.queue.run(() => this.run(command, options.stdin, op.signal), op.signal);
    } finally {
      op.dispose();
    }
  }

  /** Deletes the shell and closes the connection; waits for a running exec to end first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const signal = AbortSignal.timeout(TERMINATE_TIMEOUT_MS * 2);
    try {
      await this.queue.run(async () => {
        if (this.shell === null) return;
        const shellId = this.shell;
        this.shell = null;
        await this.protocol.deleteShell(shellId, { signal, timeoutMs: TERMINATE_TIMEOUT_MS }).catch(() => undefined);
      }, signal);
    } catch {
      // A hung exec must not keep the connection open.
    } finally {
      this.transport.close();
    }
  }

  private async ensureShell(signal: AbortSignal, timeoutMs?: number): Promise<string> {
    if (this.shell !== null) return this.shell;
    this.shell = await this.protocol.createShell({ codepage: CODEPAGE_UTF8, noProfile: true }, { signal, ...(timeoutMs ? { timeoutMs } : {}) });
    return this.shell;
  }

  private async run(command: string, stdin: string | Buffer | undefined, signal: AbortSignal): Promise<ExecResult> {
    let shellId: string | undefined;
    let commandId: string = randomUUID().toUpperCase();
    let started = false;
    try {
      shellId = await this.ensureShell(signal);
      // From here the guest may have started the command even if its reply never arrives.
      started = true;
      try {
        commandId = await this.protocol.command(shellId, command, commandId, { signal });
      } catch (e) {
        if (!isShellGone(e)) throw e;
        // The guest dropped the shell (idle timeout, WinRM restart): open another one, once.
        this.shell = null;
        shellId = await this.ensureShell(signal);
        commandId = await this.protocol.command(shellId, command, commandId, { signal });
      }
      if (stdin !== undefined) {
        const data = Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin, 'utf8');
        const chunk = this.protocol.maxSendChunk;
        for (let off = 0; off === 0 || off < data.length; off += chunk) {
          const end = off + chunk >= data.length;
          await this.protocol.sendInput(shellId, commandId, data.subarray(off, off + chunk), end, { signal });
        }
      }
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      while (true) {
        let r;
        try {
          r = await this.protocol.receive(shellId, commandId, { signal });
        } catch (e) {
          // No output within OperationTimeout: the command is still running, ask again.
          if (isOperationTimeout(e)) continue;
          throw e;
        }
        stdout.push(...r.stdout);
        stderr.push(...r.stderr);
        if (r.done) {
          // Release the finished command on the guest, as WSManCloseCommand (and pywinrm) do.
          await this.protocol.signal(shellId, commandId, 'terminate', { signal }).catch((e: unknown) => {
            if (signal.aborted) throw e;
          });
          // Decoded once at the end: a chunk boundary may split a multi-byte character.
          return { code: r.exitCode ?? null, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        }
      }
    } catch (e) {
      if (signal.aborted) {
        if (started && shellId !== undefined) await this.terminate(shellId, commandId);
        throw signal.reason as PushError;
      }
      throw callerError(e, { ...this.where, operation: 'exec' });
    }
  }

  /** Best effort: the aborted request took the connection with it, so this reconnects first. */
  private async terminate(shellId: string, commandId: string): Promise<void> {
    try {
      await this.protocol.signal(shellId, commandId, 'terminate', { signal: AbortSignal.timeout(TERMINATE_TIMEOUT_MS), timeoutMs: TERMINATE_TIMEOUT_MS });
    } catch {
      // The guest may be gone; the caller's cancellation stands either way.
    }
  }
}

function isShellGone(e: unknown): boolean {
  return e instanceof WsmanFault && (e.subcodeName === 'InvalidSelectors' || e.wsmanCode === '2150858843');
}
