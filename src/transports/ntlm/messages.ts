// NTLMSSP message encoding and decoding (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE, AUTHENTICATE, AV pairs.
import { AvId, NegotiateFlags } from './flags.ts';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** Windows 10 build 0x4a61 (2.2.2.10), NTLM revision 15. Only informative. */
export const DEFAULT_VERSION = Buffer.from('0a00614a0000000f', 'hex');

export class NtlmMessageError extends Error {
  constructor(message: string) {
    super(`NTLM: ${message}`);
    this.name = 'NtlmMessageError';
  }
}

function checkHeader(msg: Buffer, type: number, minLen: number): void {
  if (msg.length < minLen || !msg.subarray(0, 8).equals(SIGNATURE) || msg.readUInt32LE(8) !== type) {
    throw new NtlmMessageError(`not an NTLMSSP type ${type} message`);
  }
}

function readField(msg: Buffer, at: number): Buffer {
  const len = msg.readUInt16LE(at);
  const off = msg.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off + len > msg.length) throw new NtlmMessageError('field points outside the message');
  return msg.subarray(off, off + len);
}

function text(buf: Buffer, unicode: boolean): string {
  return buf.toString(unicode ? 'utf16le' : 'latin1');
}

/** Lays out header fields (len, maxlen, offset) and their payloads in the given order. */
function layout(header: Buffer, payloadStart: number, fields: Array<{ at: number; data: Buffer }>): Buffer {
  let off = payloadStart;
  for (const f of fields) {
    header.writeUInt16LE(f.data.length, f.at);
    header.writeUInt16LE(f.data.length, f.at + 2);
    header.writeUInt32LE(off, f.at + 4);
    off += f.data.length;
  }
  return Buffer.concat([header, ...fields.map((f) => f.data)]);
}

// ---- AV pairs ----

export type AvPairs = Map<number, Buffer>;

export function decodeAvPairs(buf: Buffer): AvPairs {
  const pairs: AvPairs = new Map();
  let off = 0;
  while (off + 4 <= buf.length) {
    const id = buf.readUInt16LE(off);
    const len = buf.readUInt16LE(off + 2);
    if (id === AvId.EOL) break;
    if (off + 4 + len > buf.length) throw new NtlmMessageError('truncated AV pair');
    pairs.set(id, buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return pairs;
}

/** Encodes pairs in insertion order, ending with MsvAvEOL. */
export function encodeAvPairs(pairs: AvPairs): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of pairs) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(id, 0);
    h.writeUInt16LE(value.length, 2);
    parts.push(h, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

// ---- NEGOTIATE ----

export interface NegotiateMessage {
  flags: number;
  domain: string;
  workstation: string;
}

export function encodeNegotiate(flags: number, version: Buffer = DEFAULT_VERSION): Buffer {
  const h = Buffer.alloc(40);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(1, 8);
  h.writeUInt32LE(flags >>> 0, 12);
  // Domain and workstation fields empty, offset at the payload start.
  h.writeUInt32LE(40, 20);
  h.writeUInt32LE(40, 28);
  version.copy(h, 32);
  return h;
}

export function decodeNegotiate(msg: Buffer): NegotiateMessage {
  checkHeader(msg, 1, 16);
  const flags = msg.readUInt32LE(12);
  const hasFields = msg.length >= 32;
  return {
    flags,
    domain: hasFields && flags & NegotiateFlags.OEM_DOMAIN_SUPPLIED ? text(readField(msg, 16), false) : '',
    workstation: hasFields && flags & NegotiateFlags.OEM_WORKSTATION_SUPPLIED ? text(readField(msg, 24), false) : '',
  };
}

// ---- CHALLENGE ----

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
  version: Buffer | undefined;
}

export function encodeChallenge(c: { flags: number; serverChallenge: Buffer; targetName: string; targetInfo: Buffer; version?: Buffer }): Buffer {
  const h = Buffer.alloc(56);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(2, 8);
  h.writeUInt32LE(c.flags >>> 0, 20);
  c.serverChallenge.copy(h, 24);
  (c.version ?? DEFAULT_VERSION).copy(h, 48);
  return layout(h, 56, [
    { at: 12, data: Buffer.from(c.targetName, 'utf16le') },
    { at: 40, data: c.targetInfo },
  ]);
}

export function decodeChallenge(msg: Buffer): ChallengeMessage {
  checkHeader(msg, 2, 32);
  const flags = msg.readUInt32LE(20);
  const unicode = (flags & NegotiateFlags.UNICODE) !== 0;
  const hasInfo = msg.length >= 48 && (flags & NegotiateFlags.TARGET_INFO) !== 0;
  return {
    flags,
    serverChallenge: Buffer.from(msg.subarray(24, 32)),
    targetName: text(readField(msg, 12), unicode),
    targetInfo: hasInfo ? Buffer.from(readField(msg, 40)) : Buffer.alloc(0),
    version: msg.length >= 56 && flags & NegotiateFlags.VERSION ? Buffer.from(msg.subarray(48, 56)) : undefined,
  };
}

// ---- AUTHENTICATE ----

export interface AuthenticateMessage {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  version: Buffer | undefined;
  /** The MIC and its offset in the message, when present. */
  mic: Buffer | undefined;
  micOffset: number;
}

export interface AuthenticateFields {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  version: Buffer;
  /** Reserve 16 zero bytes for a MIC (filled in afterwards at offset 72). */
  withMic: boolean;
}

export const MIC_OFFSET = 72;

export function encodeAuthenticate(a: AuthenticateFields): Buffer {
  const headLen = a.withMic ? 88 : 72;
  const h = Buffer.alloc(headLen);
  SIGNATURE.copy(h, 0);
  h.writeUInt32LE(3, 8);
  h.writeUInt32LE(a.flags >>> 0, 60);
  a.version.copy(h, 64);
  const enc = (s: string): Buffer => Buffer.from(s, a.flags & NegotiateFlags.UNICODE ? 'utf16le' : 'latin1');
  // Payload order as in MS-NLMP 4.2.4.3: domain, user, workstation, LM, NT, session key.
  return layout(h, headLen, [
    { at: 28, data: enc(a.domain) },
    { at: 36, data: enc(a.user) },
    { at: 44, data: enc(a.workstation) },
    { at: 12, data: a.lmChallengeResponse },
    { at: 20, data: a.ntChallengeResponse },
    { at: 52, data: a.encryptedRandomSessionKey },
  ]);
}

export function decodeAuthenticate(msg: Buffer): AuthenticateMessage {
  checkHeader(msg, 3, 64);
  const flags = msg.readUInt32LE(60);
  const unicode = (flags & NegotiateFlags.UNICODE) !== 0;
  // The payload starts at the lowest non-empty field offset; a MIC fits only if that is >= 88.
  let payloadStart = msg.length;
  for (const at of [12, 20, 28, 36, 44, 52]) {
    if (msg.readUInt16LE(at) > 0) payloadStart = Math.min(payloadStart, msg.readUInt32LE(at + 4));
  }
  const hasVersion = payloadStart >= 72;
  const hasMic = payloadStart >= 88;
  return {
    flags,
    lmChallengeResponse: readField(msg, 12),
    ntChallengeResponse: readField(msg, 20),
    domain: text(readField(msg, 28), unicode),
    user: text(readField(msg, 36), unicode),
    workstation: text(readField(msg, 44), unicode),
    encryptedRandomSessionKey: readField(msg, 52),
    version: hasVersion ? msg.subarray(64, 72) : undefined,
    mic: hasMic ? msg.subarray(MIC_OFFSET, MIC_OFFSET + 16) : undefined,
    micOffset: MIC_OFFSET,
  };
}
