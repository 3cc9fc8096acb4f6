// The URIs of WS-Management and the Windows Remote Shell (MS-WSMV) that client and test server share.

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  msWsman: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  transfer: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  wsmanFault: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const CMD_RESOURCE_URI = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd';
export const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

export const Action = {
  create: `${NS.transfer}/Create`,
  delete: `${NS.transfer}/Delete`,
  command: `${NS.shell}/Command`,
  send: `${NS.shell}/Send`,
  receive: `${NS.shell}/Receive`,
  signal: `${NS.shell}/Signal`,
  wsmanFault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  addressingFault: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
} as const;

export const CommandState = {
  done: `${NS.shell}/CommandState/Done`,
  running: `${NS.shell}/CommandState/Running`,
  pending: `${NS.shell}/CommandState/Pending`,
} as const;

export const SignalCode = {
  terminate: `${NS.shell}/signal/terminate`,
  ctrl_c: `${NS.shell}/signal/ctrl_c`,
  ctrl_break: `${NS.shell}/signal/ctrl_break`,
} as const;

/** WSManFault code of w:TimedOut on Receive: no output within OperationTimeout, ask again (MS-WSMV 3.1.4.14). */
export const WSMAN_OPERATION_TIMEOUT = '2150858793';

/** Default maximum SOAP envelope size Windows accepts and clients announce (bytes). */
export const DEFAULT_MAX_ENVELOPE_SIZE = 153_600;
