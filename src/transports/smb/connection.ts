// One TCP connection to an SMB server: framing, message ids and credits, many requests in flight,
// interim STATUS_PENDING replies, signing and encryption of each message, per-request timeouts and
// AbortSignal. It knows nothing of sessions or files beyond the keys it is handed.
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { TRANSFORM_PROTOCOL_ID } from './encryption.ts';
import type { Encryptor } from './encryption.ts';
import { AsrCode, SmbError, fromSocketError } from './errors.ts';
import { NtStatus } from './ntstatus.ts';
import { Command, HEADER_SIZE, HeaderFlag, TRANSPORT_PREFIX, parseHeader, writeRequestHeader } from './packets.ts';
import type { Header } from './packets.ts';
import type { Signer } from './signing.ts';

export interface Response {
  header: Header;
  /** The whole SMB2 message (header at offset 0). */
  msg: Buffer;
}

export interface RequestOptions {
  treeId?: number;
  /** Credits this request costs (multi-credit READ/WRITE); default 1. */
  creditCharge?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Seal this message (session or share requires encryption). */
  encrypt?: boolean;
  /** Sign this message (ignored when it is encrypted). */
  sign?: boolean;
  /** Called with the SMB2 message as sent (for the preauth integrity hash). */
  onSent?: (msg: Buffer) => void;
}

interface Pending {
  resolve: (r: Response) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  charge: number;
  /** The request was signed (or sealed), so its reply must be too. */
  signed: boolean;
  sealed: boolean;
  cleanup: () => void;
  /** Restarts the timeout (an interim STATUS_PENDING reply shows the server is working on it). */
  rearm: () => void;
}

interface CreditWaiter {
  charge: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MAX_CREDITS_WANTED = 2048;

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export class SmbConnection {
  readonly host: string;
  readonly port: number;
  /** Session id stamped on requests (0 until SESSION_SETUP answers). */
  sessionId = 0n;
  signer: Signer | undefined;
  encryptor: Encryptor | undefined;
  /** Responses of this session must be signed (signing is on and messages are not encrypted). */
  requireSignedResponses = false;
  /** True once the dialect allows multi-credit requests (2.1+ with LARGE_MTU). */
  multiCredit = false;
  defaultTimeoutMs: number;

  private socket: Socket | undefined;
  private nextMessageId = 0n;
  private credits = 1;
  private outstandingCharge = 0;
  private readonly pending = new Map<bigint, Pending>();
  private readonly creditWaiters: CreditWaiter[] = [];
  private closedError: SmbError | undefined;
  private lenBuf = Buffer.alloc(4);
  private lenFill = 0;
  private frame: Buffer | undefined;
  private frameFill = 0;

  private constructor(host: string, port: number, timeoutMs: number) {
    this.host = host;
    this.port = port;
    this.defaultTimeoutMs = timeoutMs;
  }

  static async open(host: string, port: number, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<SmbConnection> {
    const conn = new SmbConnection(host, port, opts.timeoutMs);
    await conn.connectSocket(opts.signal);
    return conn;
  }

  private connectSocket(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const socket = netConnect({ host: this.host, port: this.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmbError(`SMB server ${this.host}:${this.port} did not answer within ${this.defaultTimeoutMs} ms`, {
          ntStatusName: 'ETIMEDOUT', asrCode: AsrCode.UNREACHABLE, transient: true,
        }));
      }, this.defaultTimeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(fromSocketError(err, this.host, this.port));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        this.socket = socket;
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new SmbError(
          `connection to ${this.host}:${this.port} failed (${err.code ?? err.message})`,
          { ntStatusName: err.code ?? 'ESOCKET', asrCode: AsrCode.UNREACHABLE, transient: true, cause: err },
        )));
        socket.on('close', () => this.fail(new SmbError(`connection to ${this.host}:${this.port} closed`, {
          ntStatusName: 'ECONNRESET', asrCode: AsrCode.UNREACHABLE, transient: true,
        })));
        resolve();
      });
    });
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Sends a request whose body (without header) is `body`. */
  request(command: number, body: Buffer, opts: RequestOptions = {}): Promise<Response> {
    const packet = Buffer.allocUnsafe(TRANSPORT_PREFIX + HEADER_SIZE + body.length);
    body.copy(packet, TRANSPORT_PREFIX + HEADER_SIZE);
    return this.requestPacket(command, packet, opts);
  }

  /** Sends a packet that already has room for the transport prefix and header (zero-copy WRITE). */
  async requestPacket(command: number, packet: Buffer, opts: RequestOptions = {}): Promise<Response> {
    if (this.closedError) throw this.closedError;
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const charge = this.multiCredit ? Math.max(1, opts.creditCharge ?? 1) : 1;
    await this.takeCredits(charge, opts.signal);
    // From here to socket.write() everything is synchronous: a message id once taken is always sent
    // (a hole in the sequence would stall the server's credit window).
    if (this.closedError || opts.signal?.aborted) {
      this.grantCredits(charge);
      throw this.closedError ?? abortError(opts.signal!);
    }
    const messageId = this.nextMessageId;
    this.nextMessageId += BigInt(charge);
    this.outstandingCharge += charge;
    const { wire, signed, sealed } = this.prepare(command, packet, messageId, charge, opts);
    const result = this.awaitReply(command, messageId, { charge, signed, sealed }, opts);
    this.socket!.write(wire);
    return result;
  }

  /** Writes the header (asking for more credits while short of them), then signs or encrypts: the bytes to send. */
  private prepare(command: number, packet: Buffer, messageId: bigint, charge: number, opts: RequestOptions): { wire: Buffer; signed: boolean; sealed: boolean } {
    const have = this.credits + this.outstandingCharge;
    const creditRequest = have < MAX_CREDITS_WANTED ? charge + Math.min(256, MAX_CREDITS_WANTED - have) : charge;
    const msg = packet.subarray(TRANSPORT_PREFIX);
    writeRequestHeader(msg, 0, {
      command,
      creditCharge: this.multiCredit ? charge : 0,
      creditRequest,
      flags: 0,
      messageId,
      treeId: opts.treeId ?? 0,
      sessionId: command === Command.NEGOTIATE ? 0n : this.sessionId,
    });
    let wire = packet;
    let signed = false;
    const sealed = opts.encrypt === true && this.encryptor !== undefined;
    if (sealed) {
      wire = this.encryptor!.encrypt(msg, this.sessionId, TRANSPORT_PREFIX);
    } else if (opts.sign && this.signer) {
      this.signer.sign(msg);
      signed = true;
    }
    opts.onSent?.(msg);
    wire.writeUInt32BE(wire.length - TRANSPORT_PREFIX, 0);
    return { wire, signed, sealed };
  }

  /** The reply to `messageId`: pending until it arrives, the timeout ends (re-armed by interim replies) or the caller aborts. */
  private awaitReply(command: number, messageId: bigint, sent: Pick<Pending, 'charge' | 'signed' | 'sealed'>, opts: RequestOptions): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
      const entry: Pending = {
        resolve, reject, settled: false, timer: undefined, ...sent,
        cleanup: () => undefined, rearm: () => undefined,
      };
      const settle = (fn: () => void): void => {
        if (entry.settled) return;
        entry.settled = true;
        entry.cleanup();
        fn();
      };
      entry.resolve = (r) => settle(() => resolve(r));
      entry.reject = (e) => settle(() => reject(e));
      const arm = (): void => {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = setTimeout(() => entry.reject(new SmbError(
          `SMB request (command ${command}) to ${this.host}:${this.port} timed out after ${timeoutMs} ms`,
          { ntStatusName: 'TIMEOUT', asrCode: AsrCode.UNREACHABLE, transient: true },
        )), timeoutMs);
      };
      arm();
      entry.rearm = arm;
      const onAbort = (): void => entry.reject(abortError(opts.signal!));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      entry.cleanup = () => {
        if (entry.timer) clearTimeout(entry.timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(messageId, entry);
    });
  }

  private takeCredits(charge: number, signal?: AbortSignal): Promise<void> {
    if (this.creditWaiters.length === 0 && this.credits >= charge) {
      this.credits -= charge;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: CreditWaiter = { charge, resolve, reject };
      const onAbort = (): void => {
        const i = this.creditWaiters.indexOf(waiter);
        if (i >= 0) this.creditWaiters.splice(i, 1);
        reject(abortError(signal!));
      };
      waiter.resolve = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.creditWaiters.push(waiter);
    });
  }

  private grantCredits(n: number): void {
    this.credits += n;
    while (this.creditWaiters.length > 0 && this.credits >= this.creditWaiters[0]!.charge) {
      const w = this.creditWaiters.shift()!;
      this.credits -= w.charge;
      w.resolve();
    }
  }

  private onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.frame) {
        // A whole frame inside this chunk: no copy.
        if (this.lenFill === 0 && chunk.length - off >= 4) {
          const len = chunk.readUInt32BE(off) & 0xffffff;
          if (chunk.length - off - 4 >= len) {
            this.onFrame(chunk.subarray(off + 4, off + 4 + len));
            off += 4 + len;
            continue;
          }
        }
        const n = Math.min(4 - this.lenFill, chunk.length - off);
        chunk.copy(this.lenBuf, this.lenFill, off, off + n);
        this.lenFill += n;
        off += n;
        if (this.lenFill < 4) return;
        this.frame = Buffer.allocUnsafe(this.lenBuf.readUInt32BE(0) & 0xffffff);
        this.frameFill = 0;
        this.lenFill = 0;
      }
      const n = Math.min(this.frame.length - this.frameFill, chunk.length - off);
      chunk.copy(this.frame, this.frameFill, off, off + n);
      this.frameFill += n;
      off += n;
      if (this.frameFill === this.frame.length) {
        const f = this.frame;
        this.frame = undefined;
        this.onFrame(f);
      }
    }
  }

  private onFrame(frame: Buffer): void {
    try {
      let encrypted = false;
      let data = frame;
      if (frame.length >= 4 && frame.readUInt32LE(0) === TRANSFORM_PROTOCOL_ID) {
        if (!this.encryptor) throw new SmbError('encrypted message without an encryption key');
        data = this.encryptor.decrypt(frame);
        encrypted = true;
      }
      // Responses may be compounded (NextCommand); we send none, but handle them anyway.
      let off = 0;
      while (off < data.length) {
        const h = parseHeader(data.subarray(off));
        const end = h.nextCommand ? off + h.nextCommand : data.length;
        this.onMessage(h, data.subarray(off, end), encrypted);
        if (!h.nextCommand) break;
        off = end;
      }
    } catch (e) {
      this.fail(e instanceof SmbError ? e : new SmbError(`bad message from server: ${(e as Error).message}`, { cause: e }));
      this.socket?.destroy();
    }
  }

  private onMessage(h: Header, msg: Buffer, encrypted: boolean): void {
    if (h.command === Command.CANCEL) return;
    const entry = this.pending.get(h.messageId);
    const interim = h.status === NtStatus.PENDING && (h.flags & HeaderFlag.ASYNC_COMMAND) !== 0;
    if (interim) {
      // The real answer comes later with the same MessageId; credits granted now count already.
      this.grantCredits(h.credits);
      if (entry && !entry.settled) entry.rearm();
      return;
    }
    this.pending.delete(h.messageId);
    if (entry) this.outstandingCharge -= entry.charge;
    this.grantCredits(h.credits);
    if (!entry || entry.settled) return;
    if (entry.sealed && !encrypted) {
      entry.reject(new SmbError(`reply to command ${h.command} was not encrypted`, { ntStatusName: 'NOT_ENCRYPTED' }));
      return;
    }
    const mustBeSigned = (entry.signed || this.requireSignedResponses) && h.command !== Command.SESSION_SETUP;
    if (!encrypted && this.signer && h.sessionId === this.sessionId && (mustBeSigned || h.flags & HeaderFlag.SIGNED)) {
      if (!(h.flags & HeaderFlag.SIGNED) || !this.signer.verify(msg)) {
        entry.reject(new SmbError(`reply to command ${h.command} has a bad or missing signature`, { ntStatusName: 'BAD_SIGNATURE' }));
        return;
      }
    }
    entry.resolve({ header: h, msg });
  }

  private fail(err: SmbError): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.creditWaiters.splice(0)) w.reject(err);
  }

  /** Closes the socket; pending requests fail. */
  close(): void {
    this.fail(new SmbError(`connection to ${this.host}:${this.port} closed by the client`, { ntStatusName: 'CLOSED' }));
    this.socket?.destroy();
  }
}
