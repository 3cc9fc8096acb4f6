// SPNEGO (RFC 4178, MS-SPNG) tokens carrying NTLMSSP in SMB2 SESSION_SETUP.
import { DerError, decodeOid, encodeOid, readChildren, readTlv, tlv } from './der.ts';

export const SPNEGO_OID = '1.3.6.1.5.5.2';
export const NTLMSSP_OID = '1.3.6.1.4.1.311.2.2.10';

export const NegState = { ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const;

/** DER of MechTypeList (SEQUENCE OF OID): also the input of the mechListMIC. */
export function mechTypeList(oids: string[]): Buffer {
  return tlv(0x30, Buffer.concat(oids.map(encodeOid)));
}

/** The initial token: GSS-API framing around NegTokenInit { mechTypes, mechToken }. */
export function encodeNegTokenInit(mechTypes: Buffer, mechToken: Buffer): Buffer {
  const init = tlv(0x30, Buffer.concat([tlv(0xa0, mechTypes), tlv(0xa2, tlv(0x04, mechToken))]));
  return tlv(0x60, Buffer.concat([encodeOid(SPNEGO_OID), tlv(0xa0, init)]));
}

export interface NegTokenResp {
  negState?: number;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMic?: Buffer;
}

export function encodeNegTokenResp(r: NegTokenResp): Buffer {
  const parts: Buffer[] = [];
  if (r.negState !== undefined) parts.push(tlv(0xa0, tlv(0x0a, Buffer.from([r.negState]))));
  if (r.supportedMech) parts.push(tlv(0xa1, encodeOid(r.supportedMech)));
  if (r.responseToken) parts.push(tlv(0xa2, tlv(0x04, r.responseToken)));
  if (r.mechListMic) parts.push(tlv(0xa3, tlv(0x04, r.mechListMic)));
  return tlv(0xa1, tlv(0x30, Buffer.concat(parts)));
}

export interface NegTokenInit {
  mechTypes: string[];
  mechToken?: Buffer;
}

export function decodeNegTokenInit(token: Buffer): NegTokenInit {
  const outer = readTlv(token);
  if (outer.tag !== 0x60) throw new DerError('not a GSS-API initial token');
  const [oid, body] = readChildren(outer.content);
  if (oid?.tag !== 0x06 || decodeOid(oid.content) !== SPNEGO_OID || body?.tag !== 0xa0) throw new DerError('not SPNEGO');
  const seq = readTlv(body.content);
  const result: NegTokenInit = { mechTypes: [] };
  for (const field of readChildren(seq.content)) {
    if (field.tag === 0xa0) result.mechTypes = readChildren(readTlv(field.content).content).map((t) => decodeOid(t.content));
    if (field.tag === 0xa2) result.mechToken = readTlv(field.content).content;
  }
  return result;
}

export function decodeNegTokenResp(token: Buffer): NegTokenResp {
  const outer = readTlv(token);
  if (outer.tag !== 0xa1) throw new DerError('not a NegTokenResp');
  const seq = readTlv(outer.content);
  const r: NegTokenResp = {};
  for (const field of readChildren(seq.content)) {
    const inner = readTlv(field.content);
    if (field.tag === 0xa0) r.negState = inner.content[0];
    else if (field.tag === 0xa1) r.supportedMech = decodeOid(inner.content);
    else if (field.tag === 0xa2) r.responseToken = inner.content;
    else if (field.tag === 0xa3) r.mechListMic = inner.content;
  }
  return r;
}
