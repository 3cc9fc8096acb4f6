// The WS-Management envelopes of the lab's WinRM server: reading a request's header, and writing
// replies and faults the way Windows does (namespaces, RelatesTo, s:Fault with a WSManFault detail).
import { randomUUID } from 'node:crypto';
import {
  ANONYMOUS, Action, DEFAULT_MAX_ENVELOPE_SIZE, NS, WSMAN_OPERATION_TIMEOUT, child, children, parseDuration, parseXml, xmlEscape,
} from '../../src/transports/winrm/index.ts';
import type { XmlElement } from '../../src/transports/winrm/index.ts';

export interface SoapRequest {
  action: string;
  messageId: string | undefined;
  resourceUri: string | undefined;
  shellId: string | undefined;
  options: Map<string, string>;
  /** OperationTimeout in ms (Windows' MaxTimeoutms default, 60 s, when absent). */
  operationTimeoutMs: number;
  maxEnvelopeSize: number;
  body: XmlElement | undefined;
}

export function readRequest(xml: Buffer | string): SoapRequest {
  const root = parseXml(xml);
  if (root.ns !== NS.soap || root.local !== 'Envelope') throw new Error('not a SOAP 1.2 envelope');
  const header = child(root, NS.soap, 'Header');
  const text = (ns: string, local: string) => child(header, ns, local)?.text.trim();
  const options = new Map<string, string>();
  for (const o of children(child(header, NS.wsman, 'OptionSet'), NS.wsman, 'Option')) options.set(o.attrs.get('Name') ?? '', o.text.trim());
  const shellSelector = children(child(header, NS.wsman, 'SelectorSet'), NS.wsman, 'Selector').find((s) => s.attrs.get('Name') === 'ShellId');
  const timeout = text(NS.wsman, 'OperationTimeout');
  const envelopeSize = Number(text(NS.wsman, 'MaxEnvelopeSize'));
  return {
    action: text(NS.addressing, 'Action') ?? '',
    messageId: text(NS.addressing, 'MessageID'),
    resourceUri: text(NS.wsman, 'ResourceURI'),
    shellId: shellSelector?.text.trim(),
    options,
    operationTimeoutMs: (timeout !== undefined ? parseDuration(timeout) : undefined) ?? 60_000,
    maxEnvelopeSize: Number.isInteger(envelopeSize) && envelopeSize >= 8192 ? envelopeSize : DEFAULT_MAX_ENVELOPE_SIZE,
    body: child(root, NS.soap, 'Body'),
  };
}

function envelope(action: string, relatesTo: string | undefined, body: string): string {
  return [
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:x="${NS.transfer}" xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}" xmlns:p="${NS.msWsman}">`,
    '<s:Header>',
    `<a:Action>${xmlEscape(action)}</a:Action>`,
    `<a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>`,
    `<a:To>${ANONYMOUS}</a:To>`,
    relatesTo !== undefined ? `<a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` : '',
    '</s:Header>',
    `<s:Body>${body}</s:Body>`,
    '</s:Envelope>',
  ].join('');
}

export interface SoapReply {
  status: 200 | 500;
  xml: string;
  fault?: string;
}

export function reply(req: SoapRequest, body: string): SoapReply {
  return { status: 200, xml: envelope(`${req.action}Response`, req.messageId, body) };
}

export interface FaultSpec {
  code: 's:Sender' | 's:Receiver';
  subcode: string;
  wsmanCode: string;
  message: string;
  action?: string;
}

export function fault(req: Pick<SoapRequest, 'messageId'>, machine: string, f: FaultSpec): SoapReply {
  const body = [
    '<s:Fault>',
    `<s:Code><s:Value>${f.code}</s:Value><s:Subcode><s:Value>${f.subcode}</s:Value></s:Subcode></s:Code>`,
    `<s:Reason><s:Text xml:lang="en-US">${xmlEscape(f.message)}</s:Text></s:Reason>`,
    `<s:Detail><f:WSManFault xmlns:f="${NS.wsmanFault}" Code="${f.wsmanCode}" Machine="${xmlEscape(machine)}">`,
    `<f:Message>${xmlEscape(f.message)}</f:Message></f:WSManFault></s:Detail>`,
    '</s:Fault>',
  ].join('');
  return { status: 500, xml: envelope(f.action ?? Action.wsmanFault, req.messageId, body), fault: f.subcode };
}

/** The faults this server produces. Codes and texts follow Windows where known (MS-WSMV 3.1.4). */
export const Faults = {
  timedOut: (): FaultSpec => ({
    code: 's:Receiver', subcode: 'w:TimedOut', wsmanCode: WSMAN_OPERATION_TIMEOUT,
    message: 'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ',
  }),
  shellNotFound: (shellId: string): FaultSpec => ({
    code: 's:Sender', subcode: 'w:InvalidSelectors', wsmanCode: '2150858843',
    message: `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. `,
  }),
  commandNotFound: (commandId: string): FaultSpec => ({
    code: 's:Sender', subcode: 'w:InvalidParameter', wsmanCode: '87',
    message: `The request for the Windows Remote Shell failed because the command with CommandId ${commandId} was not found.`,
  }),
  accessDenied: (): FaultSpec => ({ code: 's:Sender', subcode: 'w:AccessDenied', wsmanCode: '5', message: 'Access is denied. ' }),
  actionNotSupported: (action: string): FaultSpec => ({
    code: 's:Sender', subcode: 'a:ActionNotSupported', wsmanCode: '2150858754', action: Action.addressingFault,
    message: `The action ${action} is not supported by the service.`,
  }),
  invalidResource: (uri: string): FaultSpec => ({
    code: 's:Sender', subcode: 'w:DestinationUnreachable', wsmanCode: '2150858770',
    message: `The WS-Management service cannot process the request. The resource URI ${uri} was not found in the WS-Management catalog.`,
  }),
  invalidRequest: (what: string): FaultSpec => ({
    code: 's:Sender', subcode: 'w:SchemaValidationError', wsmanCode: '2150858817', message: `The SOAP XML in the message does not match the schema: ${what}`,
  }),
  internal: (what: string): FaultSpec => ({ code: 's:Receiver', subcode: 'w:InternalError', wsmanCode: '2150858752', message: what }),
};
