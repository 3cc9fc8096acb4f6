// WS-Management / WinRS messages (pywinrm's protocol.py, MS-WSMV 3.1.4): Create shell, Command, Send,
// Receive, Signal, Delete, and the fault every one of them can end in.
import { randomUUID } from 'node:crypto';
import { formatDuration } from './duration.ts';
import { WinrmProtocolError, WsmanFault } from './errors.ts';
import type { SendOptions, SoapReply } from './http-transport.ts';
import { ANONYMOUS, Action, CMD_RESOURCE_URI, CommandState, DEFAULT_MAX_ENVELOPE_SIZE, NS, SignalCode, WSMAN_OPERATION_TIMEOUT } from './namespaces.ts';
import { XmlError, child, descendants, parseXml, path, xmlEscape } from './xml.ts';
import type { XmlElement } from './xml.ts';

export type SoapSender = (soap: string, options: SendOptions) => Promise<SoapReply>;

export interface ProtocolOptions {
  /** The URL put in a:To. */
  endpoint: string;
  /** How long the server may hold a Receive without output before answering w:TimedOut. */
  operationTimeoutMs: number;
  maxEnvelopeSize?: number;
  locale?: string;
}

export interface ReceiveResult {
  stdout: Buffer[];
  stderr: Buffer[];
  done: boolean;
  exitCode?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the HTTP read timeout for this call. */
  timeoutMs?: number;
}

interface Header {
  action: string;
  shellId?: string;
  options?: Record<string, string>;
}

/** True for the fault a Receive ends in when the command produced nothing within OperationTimeout. */
export function isOperationTimeout(e: unknown): boolean {
  return e instanceof WsmanFault && (e.wsmanCode === WSMAN_OPERATION_TIMEOUT || e.subcodeName === 'TimedOut');
}

function uuid(): string {
  return randomUUID().toUpperCase();
}

export class WinrsProtocol {
  private readonly maxEnvelopeSize: number;

  constructor(private readonly sendSoap: SoapSender, private readonly options: ProtocolOptions) {
    this.maxEnvelopeSize = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE;
  }

  /** The HTTP read timeout: the server may legitimately hold a request for the whole OperationTimeout. */
  get requestTimeoutMs(): number {
    return this.options.operationTimeoutMs + 15_000;
  }

  /** Largest raw chunk of stdin that fits one Send envelope (base64 grows it by 4/3). */
  get maxSendChunk(): number {
    return Math.floor(((this.maxEnvelopeSize - 4096) * 3) / 4);
  }

  private envelope(h: Header, messageId: string, body: string): string {
    const o = this.options;
    const locale = xmlEscape(o.locale ?? 'en-US');
    const parts = [
      '<?xml version="1.0" encoding="utf-8"?>',
      `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:p="${NS.msWsman}" xmlns:rsp="${NS.shell}">`,
      '<s:Header>',
      `<a:To>${xmlEscape(o.endpoint)}</a:To>`,
      `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS}</a:Address></a:ReplyTo>`,
      `<w:MaxEnvelopeSize s:mustUnderstand="true">${this.maxEnvelopeSize}</w:MaxEnvelopeSize>`,
      `<a:MessageID>uuid:${messageId}</a:MessageID>`,
      `<w:Locale xml:lang="${locale}" s:mustUnderstand="false"/>`,
      `<p:DataLocale xml:lang="${locale}" s:mustUnderstand="false"/>`,
      `<w:OperationTimeout>${formatDuration(o.operationTimeoutMs)}</w:OperationTimeout>`,
      `<w:ResourceURI s:mustUnderstand="true">${CMD_RESOURCE_URI}</w:ResourceURI>`,
      `<a:Action s:mustUnderstand="true">${h.action}</a:Action>`,
    ];
    if (h.shellId !== undefined) parts.push(`<w:SelectorSet><w:Selector Name="ShellId">${xmlEscape(h.shellId)}</w:Selector></w:SelectorSet>`);
    if (h.options) {
      parts.push('<w:OptionSet>');
      for (const [name, value] of Object.entries(h.options)) parts.push(`<w:Option Name="${xmlEscape(name)}">${xmlEscape(value)}</w:Option>`);
      parts.push('</w:OptionSet>');
    }
    parts.push('</s:Header>', `<s:Body>${body}</s:Body>`, '</s:Envelope>');
    return parts.join('');
  }

  /** Sends one request and returns the reply's Body; a fault (or a reply to another message) throws. */
  private async call(h: Header, body: string, options: CallOptions): Promise<XmlElement> {
    const messageId = uuid();
    const reply = await this.sendSoap(this.envelope(h, messageId, body), {
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let root: XmlElement;
    try {
      root = parseXml(reply.body);
    } catch (e) {
      const what = e instanceof XmlError ? e.message : String(e);
      throw new WinrmProtocolError(reply.status === 200 ? `unreadable reply (${what})` : `HTTP ${reply.status} (${what})`, reply.status);
    }
    if (root.ns !== NS.soap || root.local !== 'Envelope') throw new WinrmProtocolError(`HTTP ${reply.status}: not a SOAP envelope`, reply.status);
    const soapBody = child(root, NS.soap, 'Body');
    const fault = child(soapBody, NS.soap, 'Fault');
    if (fault) throw parseFault(fault, reply.status);
    if (reply.status !== 200) throw new WinrmProtocolError(`HTTP ${reply.status} without a fault`, reply.status);
    const relatesTo = path(root, [NS.soap, 'Header'], [NS.addressing, 'RelatesTo'])?.text.trim();
    if (relatesTo !== undefined && relatesTo.toUpperCase() !== `UUID:${messageId}`) {
      throw new WinrmProtocolError(`the reply relates to ${relatesTo}, not to uuid:${messageId}`);
    }
    if (!soapBody) throw new WinrmProtocolError('reply without a SOAP body');
    return soapBody;
  }

  /** Creates a cmd shell; returns its ShellId. */
  async createShell(shell: { codepage: number; noProfile: boolean }, options: CallOptions = {}): Promise<string> {
    const body = await this.call(
      { action: Action.create, options: { WINRS_NOPROFILE: shell.noProfile ? 'TRUE' : 'FALSE', WINRS_CODEPAGE: String(shell.codepage) } },
      '<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>',
      options,
    );
    const selector = descendants(body, NS.wsman, 'Selector').find((s) => s.attrs.get('Name') === 'ShellId');
    const id = (selector ?? descendants(body, NS.shell, 'ShellId')[0])?.text.trim();
    if (!id) throw new WinrmProtocolError('CreateResponse without a ShellId');
    return id;
  }

  /**
   * Starts a command line in the shell (cmd.exe /c runs it). The client proposes the CommandId
   * (WSManRunShellCommandEx) so that it can signal a command whose CommandResponse it never saw.
   */
  async command(shellId: string, commandLine: string, commandId: string, options: CallOptions = {}): Promise<string> {
    const body = await this.call(
      { action: Action.command, shellId, options: { WINRS_CONSOLEMODE_STDIN: 'TRUE', WINRS_SKIP_CMD_SHELL: 'FALSE' } },
      `<rsp:CommandLine CommandId="${xmlEscape(commandId)}"><rsp:Command>${xmlEscape(commandLine)}</rsp:Command></rsp:CommandLine>`,
      options,
    );
    const id = descendants(body, NS.shell, 'CommandId')[0]?.text.trim();
    if (!id) throw new WinrmProtocolError('CommandResponse without a CommandId');
    return id;
  }

  /** Writes to the command's stdin; `end` closes it. */
  async sendInput(shellId: string, commandId: string, data: Buffer, end: boolean, options: CallOptions = {}): Promise<void> {
    const endAttr = end ? ' End="true"' : '';
    await this.call(
      { action: Action.send, shellId },
      `<rsp:Send><rsp:Stream Name="stdin" CommandId="${xmlEscape(commandId)}"${endAttr}>${data.toString('base64')}</rsp:Stream></rsp:Send>`,
      options,
    );
  }

  /** One Receive: whatever output is ready and, once the command has ended, its exit code. */
  async receive(shellId: string, commandId: string, options: CallOptions = {}): Promise<ReceiveResult> {
    const body = await this.call(
      { action: Action.receive, shellId },
      `<rsp:Receive><rsp:DesiredStream CommandId="${xmlEscape(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
      options,
    );
    const response = child(body, NS.shell, 'ReceiveResponse');
    if (!response) throw new WinrmProtocolError('reply without a ReceiveResponse');
    const out: ReceiveResult = { stdout: [], stderr: [], done: false };
    for (const stream of response.children.filter((c) => c.ns === NS.shell && c.local === 'Stream')) {
      const id = stream.attrs.get('CommandId');
      if (id !== undefined && id.toUpperCase() !== commandId.toUpperCase()) continue;
      const text = stream.text.trim();
      if (!text) continue;
      const name = stream.attrs.get('Name');
      if (name === 'stdout') out.stdout.push(Buffer.from(text, 'base64'));
      else if (name === 'stderr') out.stderr.push(Buffer.from(text, 'base64'));
    }
    const state = child(response, NS.shell, 'CommandState');
    if (state?.attrs.get('State') === CommandState.done) {
      const exit = child(state, NS.shell, 'ExitCode')?.text.trim();
      const code = exit === undefined ? NaN : Number(exit);
      if (!Number.isInteger(code)) throw new WinrmProtocolError('CommandState Done without an ExitCode');
      out.done = true;
      out.exitCode = code;
    }
    return out;
  }

  async signal(shellId: string, commandId: string, code: keyof typeof SignalCode, options: CallOptions = {}): Promise<void> {
    await this.call(
      { action: Action.signal, shellId },
      `<rsp:Signal CommandId="${xmlEscape(commandId)}"><rsp:Code>${SignalCode[code]}</rsp:Code></rsp:Signal>`,
      options,
    );
  }

  async deleteShell(shellId: string, options: CallOptions = {}): Promise<void> {
    await this.call({ action: Action.delete, shellId }, '', options);
  }
}

function parseFault(fault: XmlElement, httpStatus: number): WsmanFault {
  const code = child(fault, NS.soap, 'Code');
  const wsman = descendants(fault, NS.wsmanFault, 'WSManFault')[0];
  const reason = path(fault, [NS.soap, 'Reason'], [NS.soap, 'Text'])?.text.trim()
    || (wsman ? child(wsman, NS.wsmanFault, 'Message')?.text.trim() : undefined)
    || '(no reason given)';
  const init: ConstructorParameters<typeof WsmanFault>[0] = { httpStatus, reason };
  const faultCode = child(code, NS.soap, 'Value')?.text.trim();
  const subcode = path(code, [NS.soap, 'Subcode'], [NS.soap, 'Value'])?.text.trim();
  const wsmanCode = wsman?.attrs.get('Code');
  if (faultCode) init.faultCode = faultCode;
  if (subcode) init.subcode = subcode;
  if (wsmanCode) init.wsmanCode = wsmanCode;
  return new WsmanFault(init);
}
