// The small part of ASN.1 DER that SPNEGO needs: definite-length TLVs, OIDs, ENUMERATED, OCTET STRING.

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else if (n < 0x10000) len = Buffer.from([0x82, n >> 8, n & 0xff]);
  else if (n < 0x1000000) len = Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  else throw new DerError('content too long');
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

export interface Tlv {
  tag: number;
  content: Buffer;
  /** Offset just past this element in the input. */
  end: number;
}

export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const bytes = len & 0x7f;
    if (bytes === 0 || bytes > 3 || pos + bytes > buf.length) throw new DerError('unsupported length');
    len = 0;
    for (let i = 0; i < bytes; i++) len = (len << 8) | buf[pos + i]!;
    pos += bytes;
  }
  if (pos + len > buf.length) throw new DerError('element runs past the buffer');
  return { tag, content: buf.subarray(pos, pos + len), end: pos + len };
}

/** All elements inside a constructed element's content. */
export function readChildren(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < content.length) {
    const t = readTlv(content, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0)) throw new DerError(`bad OID ${oid}`);
  const bytes = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new DerError('empty OID');
  const arcs = [Math.floor(content[0]! / 40), content[0]! % 40];
  let v = 0;
  for (const b of content.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}
