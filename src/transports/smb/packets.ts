// SMB2 wire format (MS-SMB2 2.2): the 64-byte header and the request/response bodies this client uses.
// Request bodies are built without the header; offsets inside them count from the header's start.

export const HEADER_SIZE = 64;
/** Direct TCP transport prefix (one zero byte and a 24-bit big-endian length). */
export const TRANSPORT_PREFIX = 4;
export const PROTOCOL_ID = 0x424d53fe; // 0xFE 'S' 'M' 'B' read little-endian

export const Command = {
  NEGOTIATE: 0, SESSION_SETUP: 1, LOGOFF: 2, TREE_CONNECT: 3, TREE_DISCONNECT: 4, CREATE: 5, CLOSE: 6,
  FLUSH: 7, READ: 8, WRITE: 9, LOCK: 10, IOCTL: 11, CANCEL: 12, ECHO: 13, QUERY_DIRECTORY: 14,
  CHANGE_NOTIFY: 15, QUERY_INFO: 16, SET_INFO: 17,
} as const;

export const HeaderFlag = { SERVER_TO_REDIR: 0x1, ASYNC_COMMAND: 0x2, RELATED: 0x4, SIGNED: 0x8 } as const;

export const Dialect = { SMB202: 0x0202, SMB210: 0x0210, SMB300: 0x0300, SMB302: 0x0302, SMB311: 0x0311 } as const;

export const SecurityMode = { SIGNING_ENABLED: 0x1, SIGNING_REQUIRED: 0x2 } as const;

export const Capability = {
  DFS: 0x1, LEASING: 0x2, LARGE_MTU: 0x4, MULTI_CHANNEL: 0x8, PERSISTENT_HANDLES: 0x10,
  DIRECTORY_LEASING: 0x20, ENCRYPTION: 0x40,
} as const;

export const SessionFlag = { IS_GUEST: 0x1, IS_NULL: 0x2, ENCRYPT_DATA: 0x4 } as const;
export const ShareFlag = { ENCRYPT_DATA: 0x8000 } as const;

export const NegotiateContextType = { PREAUTH_INTEGRITY: 1, ENCRYPTION: 2, SIGNING: 8 } as const;

export const Access = {
  FILE_READ_DATA: 0x1, FILE_WRITE_DATA: 0x2, FILE_APPEND_DATA: 0x4, FILE_READ_EA: 0x8, FILE_WRITE_EA: 0x10,
  FILE_READ_ATTRIBUTES: 0x80, FILE_WRITE_ATTRIBUTES: 0x100, DELETE: 0x10000, READ_CONTROL: 0x20000,
  SYNCHRONIZE: 0x100000, MAXIMUM_ALLOWED: 0x2000000, GENERIC_WRITE: 0x40000000, GENERIC_READ: 0x80000000,
} as const;

export const ShareAccess = { READ: 0x1, WRITE: 0x2, DELETE: 0x4 } as const;

export const Disposition = { SUPERSEDE: 0, OPEN: 1, CREATE: 2, OPEN_IF: 3, OVERWRITE: 4, OVERWRITE_IF: 5 } as const;

export const CreateOption = {
  DIRECTORY_FILE: 0x1, WRITE_THROUGH: 0x2, SEQUENTIAL_ONLY: 0x4, NON_DIRECTORY_FILE: 0x40, DELETE_ON_CLOSE: 0x1000,
} as const;

export const FileAttribute = { READONLY: 0x1, DIRECTORY: 0x10, ARCHIVE: 0x20, NORMAL: 0x80 } as const;

export const InfoType = { FILE: 1, FILESYSTEM: 2 } as const;
export const FileInfoClass = {
  DIRECTORY: 1, STANDARD: 5, DISPOSITION: 13, END_OF_FILE: 20, FS_FULL_SIZE: 7,
} as const;

export interface Header {
  command: number;
  status: number;
  flags: number;
  creditCharge: number;
  credits: number;
  nextCommand: number;
  messageId: bigint;
  asyncId: bigint;
  treeId: number;
  sessionId: bigint;
}

export function parseHeader(msg: Buffer): Header {
  if (msg.length < HEADER_SIZE || msg.readUInt32LE(0) !== PROTOCOL_ID) throw new Error('not an SMB2 message');
  const flags = msg.readUInt32LE(16);
  const async = (flags & HeaderFlag.ASYNC_COMMAND) !== 0;
  return {
    creditCharge: msg.readUInt16LE(6),
    status: msg.readUInt32LE(8),
    command: msg.readUInt16LE(12),
    credits: msg.readUInt16LE(14),
    flags,
    nextCommand: msg.readUInt32LE(20),
    messageId: msg.readBigUInt64LE(24),
    asyncId: async ? msg.readBigUInt64LE(32) : 0n,
    treeId: async ? 0 : msg.readUInt32LE(36),
    sessionId: msg.readBigUInt64LE(40),
  };
}

/** Writes a request header at `at` (the start of the SMB2 message). */
export function writeRequestHeader(
  buf: Buffer, at: number,
  h: { command: number; creditCharge: number; creditRequest: number; flags: number; messageId: bigint; treeId: number; sessionId: bigint },
): void {
  buf.writeUInt32LE(PROTOCOL_ID, at);
  buf.writeUInt16LE(HEADER_SIZE, at + 4);
  buf.writeUInt16LE(h.creditCharge, at + 6);
  buf.writeUInt32LE(0, at + 8);
  buf.writeUInt16LE(h.command, at + 12);
  buf.writeUInt16LE(h.creditRequest, at + 14);
  buf.writeUInt32LE(h.flags >>> 0, at + 16);
  buf.writeUInt32LE(0, at + 20);
  buf.writeBigUInt64LE(h.messageId, at + 24);
  buf.writeUInt32LE(0, at + 32);
  buf.writeUInt32LE(h.treeId >>> 0, at + 36);
  buf.writeBigUInt64LE(h.sessionId, at + 40);
  buf.fill(0, at + 48, at + 64);
}

function fixed(size: number): Buffer {
  return Buffer.alloc(size);
}

const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');

// ---- NEGOTIATE ----

export interface NegotiateContext {
  type: number;
  data: Buffer;
}

export function negotiateRequest(o: {
  dialects: number[]; securityMode: number; capabilities: number; clientGuid: Buffer; contexts: NegotiateContext[];
}): Buffer {
  const head = fixed(36 + o.dialects.length * 2);
  head.writeUInt16LE(36, 0);
  head.writeUInt16LE(o.dialects.length, 2);
  head.writeUInt16LE(o.securityMode, 4);
  head.writeUInt32LE(o.capabilities, 8);
  o.clientGuid.copy(head, 12);
  o.dialects.forEach((d, i) => head.writeUInt16LE(d, 36 + i * 2));
  if (o.contexts.length === 0) return head;
  const parts: Buffer[] = [head];
  let len = head.length;
  const pad = (): void => {
    const p = (8 - ((HEADER_SIZE + len) % 8)) % 8;
    if (p) { parts.push(Buffer.alloc(p)); len += p; }
  };
  pad();
  head.writeUInt32LE(HEADER_SIZE + len, 28);
  head.writeUInt16LE(o.contexts.length, 32);
  o.contexts.forEach((c, i) => {
    if (i > 0) pad();
    const h = fixed(8);
    h.writeUInt16LE(c.type, 0);
    h.writeUInt16LE(c.data.length, 2);
    parts.push(h, c.data);
    len += 8 + c.data.length;
  });
  return Buffer.concat(parts);
}

export interface NegotiateResponse {
  securityMode: number;
  dialect: number;
  serverGuid: Buffer;
  capabilities: number;
  maxTransactSize: number;
  maxReadSize: number;
  maxWriteSize: number;
  securityBuffer: Buffer;
  contexts: NegotiateContext[];
}

export function parseNegotiateResponse(msg: Buffer): NegotiateResponse {
  const b = HEADER_SIZE;
  const secOff = msg.readUInt16LE(b + 56);
  const secLen = msg.readUInt16LE(b + 58);
  const dialect = msg.readUInt16LE(b + 4);
  const contexts: NegotiateContext[] = [];
  if (dialect === Dialect.SMB311) {
    let off = msg.readUInt32LE(b + 60);
    const count = msg.readUInt16LE(b + 6);
    for (let i = 0; i < count && off + 8 <= msg.length; i++) {
      const type = msg.readUInt16LE(off);
      const len = msg.readUInt16LE(off + 2);
      contexts.push({ type, data: msg.subarray(off + 8, off + 8 + len) });
      off += 8 + len;
      off += (8 - (off % 8)) % 8;
    }
  }
  return {
    securityMode: msg.readUInt16LE(b + 2),
    dialect,
    serverGuid: msg.subarray(b + 8, b + 24),
    capabilities: msg.readUInt32LE(b + 24),
    maxTransactSize: msg.readUInt32LE(b + 28),
    maxReadSize: msg.readUInt32LE(b + 32),
    maxWriteSize: msg.readUInt32LE(b + 36),
    securityBuffer: msg.subarray(secOff, secOff + secLen),
    contexts,
  };
}

// ---- SESSION_SETUP ----

export function sessionSetupRequest(securityMode: number, token: Buffer): Buffer {
  const body = fixed(24 + token.length);
  body.writeUInt16LE(25, 0);
  body.writeUInt8(securityMode, 3);
  body.writeUInt16LE(HEADER_SIZE + 24, 12);
  body.writeUInt16LE(token.length, 14);
  token.copy(body, 24);
  return body;
}

export function parseSessionSetupResponse(msg: Buffer): { sessionFlags: number; token: Buffer } {
  const b = HEADER_SIZE;
  const off = msg.readUInt16LE(b + 4);
  const len = msg.readUInt16LE(b + 6);
  return { sessionFlags: msg.readUInt16LE(b + 2), token: msg.subarray(off, off + len) };
}

/** LOGOFF, TREE_DISCONNECT and ECHO share the same 4-byte body. */
export function emptyRequest(): Buffer {
  const body = fixed(4);
  body.writeUInt16LE(4, 0);
  return body;
}

// ---- TREE_CONNECT ----

export function treeConnectRequest(path: string): Buffer {
  const p = utf16(path);
  const body = fixed(8 + p.length);
  body.writeUInt16LE(9, 0);
  body.writeUInt16LE(HEADER_SIZE + 8, 4);
  body.writeUInt16LE(p.length, 6);
  p.copy(body, 8);
  return body;
}

export function parseTreeConnectResponse(msg: Buffer): { shareType: number; shareFlags: number; maximalAccess: number } {
  const b = HEADER_SIZE;
  return { shareType: msg.readUInt8(b + 2), shareFlags: msg.readUInt32LE(b + 4), maximalAccess: msg.readUInt32LE(b + 12) };
}

// ---- CREATE / CLOSE ----

export interface CreateParams {
  name: string;
  desiredAccess: number;
  fileAttributes?: number;
  shareAccess: number;
  disposition: number;
  options: number;
}

export function createRequest(p: CreateParams): Buffer {
  const name = utf16(p.name);
  const body = fixed(56 + Math.max(name.length, 1));
  body.writeUInt16LE(57, 0);
  body.writeUInt32LE(2, 4); // ImpersonationLevel: Impersonation
  body.writeUInt32LE(p.desiredAccess >>> 0, 24);
  body.writeUInt32LE(p.fileAttributes ?? 0, 28);
  body.writeUInt32LE(p.shareAccess, 32);
  body.writeUInt32LE(p.disposition, 36);
  body.writeUInt32LE(p.options, 40);
  body.writeUInt16LE(HEADER_SIZE + 56, 44);
  body.writeUInt16LE(name.length, 46);
  name.copy(body, 56);
  return body;
}

export interface CreateResponse {
  fileId: Buffer;
  createAction: number;
  endOfFile: bigint;
  fileAttributes: number;
}

export function parseCreateResponse(msg: Buffer): CreateResponse {
  const b = HEADER_SIZE;
  return {
    createAction: msg.readUInt32LE(b + 4),
    endOfFile: msg.readBigUInt64LE(b + 48),
    fileAttributes: msg.readUInt32LE(b + 56),
    fileId: Buffer.from(msg.subarray(b + 64, b + 80)),
  };
}

export function closeRequest(fileId: Buffer): Buffer {
  const body = fixed(24);
  body.writeUInt16LE(24, 0);
  fileId.copy(body, 8);
  return body;
}

// ---- READ / WRITE ----

export function readRequest(fileId: Buffer, offset: number, length: number): Buffer {
  const body = fixed(49);
  body.writeUInt16LE(49, 0);
  body.writeUInt8(0x50, 2); // Padding: data right after the response header
  body.writeUInt32LE(length, 4);
  body.writeBigUInt64LE(BigInt(offset), 8);
  fileId.copy(body, 16);
  return body;
}

export function parseReadResponse(msg: Buffer): Buffer {
  const off = msg.readUInt8(HEADER_SIZE + 2);
  const len = msg.readUInt32LE(HEADER_SIZE + 4);
  return msg.subarray(off, off + len);
}

export const WRITE_BODY_SIZE = 48;
/** Where the data of a WRITE starts in the packet (transport prefix + header + body). */
export const WRITE_DATA_OFFSET = TRANSPORT_PREFIX + HEADER_SIZE + WRITE_BODY_SIZE;

/**
 * A whole WRITE packet with room for the header (filled later) and `length` data bytes at
 * WRITE_DATA_OFFSET, in `reuse` if given (a buffer of at least that size), else freshly allocated.
 */
export function writePacket(fileId: Buffer, offset: number, length: number, reuse?: Buffer): Buffer {
  const packet = reuse ? reuse.subarray(0, WRITE_DATA_OFFSET + length) : Buffer.allocUnsafe(WRITE_DATA_OFFSET + length);
  const at = TRANSPORT_PREFIX + HEADER_SIZE;
  packet.fill(0, at, at + WRITE_BODY_SIZE);
  packet.writeUInt16LE(49, at);
  packet.writeUInt16LE(HEADER_SIZE + WRITE_BODY_SIZE, at + 2);
  packet.writeUInt32LE(length, at + 4);
  packet.writeBigUInt64LE(BigInt(offset), at + 8);
  fileId.copy(packet, at + 16);
  return packet;
}

export function parseWriteResponse(msg: Buffer): number {
  return msg.readUInt32LE(HEADER_SIZE + 4);
}

// ---- QUERY_DIRECTORY / QUERY_INFO / SET_INFO ----

export function queryDirectoryRequest(fileId: Buffer, pattern: string, flags: number, outputLength: number): Buffer {
  const name = utf16(pattern);
  const body = fixed(32 + Math.max(name.length, 1));
  body.writeUInt16LE(33, 0);
  body.writeUInt8(FileInfoClass.DIRECTORY, 2);
  body.writeUInt8(flags, 3);
  fileId.copy(body, 8);
  body.writeUInt16LE(HEADER_SIZE + 32, 24);
  body.writeUInt16LE(name.length, 26);
  body.writeUInt32LE(outputLength, 28);
  name.copy(body, 32);
  return body;
}

export interface DirectoryEntry {
  name: string;
  isDirectory: boolean;
  size: bigint;
}

/** Parses FILE_DIRECTORY_INFORMATION entries from a QUERY_DIRECTORY response. */
export function parseDirectoryEntries(msg: Buffer): DirectoryEntry[] {
  const off = msg.readUInt16LE(HEADER_SIZE + 2);
  const len = msg.readUInt32LE(HEADER_SIZE + 4);
  const buf = msg.subarray(off, off + len);
  const out: DirectoryEntry[] = [];
  let pos = 0;
  while (pos + 64 <= buf.length) {
    const next = buf.readUInt32LE(pos);
    const nameLen = buf.readUInt32LE(pos + 60);
    out.push({
      name: buf.toString('utf16le', pos + 64, pos + 64 + nameLen),
      isDirectory: (buf.readUInt32LE(pos + 56) & FileAttribute.DIRECTORY) !== 0,
      size: buf.readBigUInt64LE(pos + 40),
    });
    if (next === 0) break;
    pos += next;
  }
  return out;
}

export function queryInfoRequest(fileId: Buffer, infoType: number, infoClass: number, outputLength: number): Buffer {
  const body = fixed(40);
  body.writeUInt16LE(41, 0);
  body.writeUInt8(infoType, 2);
  body.writeUInt8(infoClass, 3);
  body.writeUInt32LE(outputLength, 4);
  body.writeUInt16LE(HEADER_SIZE + 40, 8);
  fileId.copy(body, 24);
  return body;
}

export function parseQueryInfoResponse(msg: Buffer): Buffer {
  const off = msg.readUInt16LE(HEADER_SIZE + 2);
  const len = msg.readUInt32LE(HEADER_SIZE + 4);
  return msg.subarray(off, off + len);
}

export function setInfoRequest(fileId: Buffer, infoType: number, infoClass: number, info: Buffer): Buffer {
  const body = fixed(32 + info.length);
  body.writeUInt16LE(33, 0);
  body.writeUInt8(infoType, 2);
  body.writeUInt8(infoClass, 3);
  body.writeUInt32LE(info.length, 4);
  body.writeUInt16LE(HEADER_SIZE + 32, 8);
  fileId.copy(body, 16);
  info.copy(body, 32);
  return body;
}
