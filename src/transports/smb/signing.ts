// SMB2/3 message signing (MS-SMB2 3.1.4.1) and key derivation (3.1.4.2): HMAC-SHA256 for 2.0.2/2.1,
// AES-128-CMAC for 3.x, AES-128-GMAC when 3.1.1 negotiates it. CMAC is built on node:crypto's AES.
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

export const SigningAlgorithm = { HMAC_SHA256: 0, AES_CMAC: 1, AES_GMAC: 2 } as const;
export type SigningAlgorithmId = (typeof SigningAlgorithm)[keyof typeof SigningAlgorithm];

const SIG_OFFSET = 48;
const FLAGS_OFFSET = 16;
const FLAG_SERVER_TO_REDIR = 0x1;
const FLAG_SIGNED = 0x8;
const CMD_CANCEL = 12;

/** SP800-108 KDF in counter mode with HMAC-SHA256, 128-bit output (MS-SMB2 3.1.4.2). */
export function kdf(key: Buffer, label: string | Buffer, context: Buffer): Buffer {
  const l = typeof label === 'string' ? Buffer.from(label, 'latin1') : label;
  const input = Buffer.concat([Buffer.from([0, 0, 0, 1]), l, Buffer.from([0]), context, Buffer.from([0, 0, 0, 128])]);
  return createHmac('sha256', key).update(input).digest().subarray(0, 16);
}

function shiftLeft(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[15]! ^= 0x87;
  return out;
}

/** AES-128-CMAC (RFC 4493): CBC-MAC over all but the last block, then the tweaked last block. */
export class AesCmac {
  private readonly key: Buffer;
  private readonly k1: Buffer;
  private readonly k2: Buffer;

  constructor(key: Buffer) {
    this.key = key;
    const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    const l = ecb.update(Buffer.alloc(16));
    this.k1 = shiftLeft(l);
    this.k2 = shiftLeft(this.k1);
  }

  mac(data: Buffer): Buffer {
    const n = data.length;
    const complete = n > 0 && n % 16 === 0;
    const lastStart = n === 0 ? 0 : complete ? n - 16 : n - (n % 16);
    let x = Buffer.alloc(16);
    if (lastStart > 0) {
      const cbc = createCipheriv('aes-128-cbc', this.key, Buffer.alloc(16)).setAutoPadding(false);
      const step = 256 * 1024;
      for (let off = 0; off < lastStart; off += step) {
        const out = cbc.update(data.subarray(off, Math.min(off + step, lastStart)));
        if (out.length >= 16) x = out.subarray(out.length - 16);
      }
    }
    const last = Buffer.alloc(16);
    data.copy(last, 0, lastStart);
    if (!complete) last[n - lastStart] = 0x80;
    const k = complete ? this.k1 : this.k2;
    for (let i = 0; i < 16; i++) last[i] = last[i]! ^ k[i]! ^ x[i]!;
    return createCipheriv('aes-128-ecb', this.key, null).setAutoPadding(false).update(last);
  }
}

/** Signs and verifies SMB2 messages (one message, header at offset 0) for one session. */
export class Signer {
  readonly algorithm: SigningAlgorithmId;
  private readonly key: Buffer;
  private readonly cmac: AesCmac | undefined;

  constructor(algorithm: SigningAlgorithmId, key: Buffer) {
    this.algorithm = algorithm;
    this.key = algorithm === SigningAlgorithm.HMAC_SHA256 ? key : key.subarray(0, 16);
    this.cmac = algorithm === SigningAlgorithm.AES_CMAC ? new AesCmac(this.key) : undefined;
  }

  private compute(msg: Buffer): Buffer {
    if (this.algorithm === SigningAlgorithm.HMAC_SHA256) {
      return createHmac('sha256', this.key).update(msg).digest().subarray(0, 16);
    }
    if (this.cmac) return this.cmac.mac(msg);
    // GMAC: AES-GCM with the whole message as AAD and no plaintext; nonce = MessageId + role bits.
    const nonce = Buffer.alloc(12);
    msg.copy(nonce, 0, 24, 32);
    const flags = msg.readUInt32LE(FLAGS_OFFSET);
    nonce.writeUInt32LE((flags & FLAG_SERVER_TO_REDIR ? 1 : 0) | (msg.readUInt16LE(12) === CMD_CANCEL ? 2 : 0), 8);
    const gcm = createCipheriv('aes-128-gcm', this.key, nonce);
    gcm.setAAD(msg);
    gcm.final();
    return gcm.getAuthTag();
  }

  /** Sets the SIGNED flag and writes the signature into the header, in place. */
  sign(msg: Buffer): void {
    msg.writeUInt32LE((msg.readUInt32LE(FLAGS_OFFSET) | FLAG_SIGNED) >>> 0, FLAGS_OFFSET);
    msg.fill(0, SIG_OFFSET, SIG_OFFSET + 16);
    this.compute(msg).copy(msg, SIG_OFFSET);
  }

  /** True if the header's signature is right. Leaves the message as it was. */
  verify(msg: Buffer): boolean {
    const sig = Buffer.from(msg.subarray(SIG_OFFSET, SIG_OFFSET + 16));
    msg.fill(0, SIG_OFFSET, SIG_OFFSET + 16);
    const expected = this.compute(msg);
    sig.copy(msg, SIG_OFFSET);
    return timingSafeEqual(sig, expected);
  }
}
