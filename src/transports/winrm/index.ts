// Public surface of the WinRM transport: the client a Windows guest channel runs commands with, plus
// the protocol pieces the test lab's WinRM server shares with it (framing, XML, URIs).
export { WinrmClient } from './client.ts';
export { WsmanFault, WinrmAuthError, WinrmProtocolError, toPushError } from './errors.ts';
export { ENCRYPTED_CONTENT_TYPE, EncryptionError, decryptMessage, encryptMessage, isEncryptedContentType } from './encryption.ts';
export { Action, ANONYMOUS, CMD_RESOURCE_URI, CommandState, DEFAULT_MAX_ENVELOPE_SIZE, NS, SignalCode, WSMAN_OPERATION_TIMEOUT } from './namespaces.ts';
export { formatDuration, parseDuration } from './duration.ts';
export { XmlError, child, children, descendants, parseXml, path, xmlEscape } from './xml.ts';
export type { XmlElement } from './xml.ts';
