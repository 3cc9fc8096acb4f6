// SMB3 encryption (MS-SMB2 2.2.41, 3.1.4.3): each message travels inside a TRANSFORM_HEADER, sealed
// with AES-128-GCM (3.1.1) or AES-128-CCM (3.0, 3.0.2). The header's last 32 bytes are the AAD.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const Cipher = { AES_128_CCM: 1, AES_128_GCM: 2 } as const;
export type CipherId = (typeof Cipher)[keyof typeof Cipher];

export const TRANSFORM_PROTOCOL_ID = 0x424d53fd; // 0xFD 'S' 'M' 'B' read little-endian
export const TRANSFORM_HEADER_SIZE = 52;

export class EncryptionError extends Error {
  constructor(message: string) {
    super(`SMB3 encryption: ${message}`);
    this.name = 'EncryptionError';
  }
}

export class Encryptor {
  readonly cipher: CipherId;
  private readonly encKey: Buffer;
  private readonly decKey: Buffer;
  private readonly noncePrefix = randomBytes(4);
  private counter = 0n;

  constructor(cipher: CipherId, encKey: Buffer, decKey: Buffer) {
    this.cipher = cipher;
    this.encKey = encKey;
    this.decKey = decKey;
  }

  private nonceLength(): number {
    return this.cipher === Cipher.AES_128_GCM ? 12 : 11;
  }

  /** Seals one SMB2 message; returns `headroom` spare bytes + TRANSFORM_HEADER + ciphertext. */
  encrypt(msg: Buffer, sessionId: bigint, headroom = 0): Buffer {
    const wire = Buffer.allocUnsafe(headroom + TRANSFORM_HEADER_SIZE + msg.length);
    const out = wire.subarray(headroom);
    out.writeUInt32LE(TRANSFORM_PROTOCOL_ID, 0);
    out.fill(0, 4, 36);
    // Unique per key: a random prefix and a counter (never reused within a session).
    const nonceLen = this.nonceLength();
    this.noncePrefix.copy(out, 20, 0, nonceLen - 8);
    out.writeBigUInt64LE(this.counter++, 20 + nonceLen - 8);
    out.writeUInt32LE(msg.length, 36);
    out.writeUInt16LE(0, 40);
    out.writeUInt16LE(1, 42); // Flags: encrypted
    out.writeBigUInt64LE(sessionId, 44);
    const nonce = out.subarray(20, 20 + nonceLen);
    const aad = out.subarray(20, TRANSFORM_HEADER_SIZE);
    let tag: Buffer;
    if (this.cipher === Cipher.AES_128_GCM) {
      const c = createCipheriv('aes-128-gcm', this.encKey, nonce);
      c.setAAD(aad);
      const n = c.update(msg).copy(out, TRANSFORM_HEADER_SIZE);
      c.final();
      if (n !== msg.length) throw new EncryptionError('short ciphertext');
      tag = c.getAuthTag();
    } else {
      const c = createCipheriv('aes-128-ccm', this.encKey, nonce, { authTagLength: 16 });
      c.setAAD(aad, { plaintextLength: msg.length });
      c.update(msg).copy(out, TRANSFORM_HEADER_SIZE);
      c.final();
      tag = c.getAuthTag();
    }
    tag.copy(out, 4);
    return wire;
  }

  /** Opens a TRANSFORM_HEADER frame; throws EncryptionError if it does not authenticate. */
  decrypt(frame: Buffer): Buffer {
    if (frame.length < TRANSFORM_HEADER_SIZE) throw new EncryptionError('short transform header');
    const size = frame.readUInt32LE(36);
    if (TRANSFORM_HEADER_SIZE + size !== frame.length) throw new EncryptionError('bad message size');
    const nonce = frame.subarray(20, 20 + this.nonceLength());
    const aad = frame.subarray(20, TRANSFORM_HEADER_SIZE);
    const tag = frame.subarray(4, 20);
    const body = frame.subarray(TRANSFORM_HEADER_SIZE);
    try {
      if (this.cipher === Cipher.AES_128_GCM) {
        const d = createDecipheriv('aes-128-gcm', this.decKey, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        const plain = d.update(body);
        d.final();
        return plain;
      }
      const d = createDecipheriv('aes-128-ccm', this.decKey, nonce, { authTagLength: 16 });
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: size });
      const plain = d.update(body);
      d.final();
      return plain;
    } catch (e) {
      throw new EncryptionError(`message does not authenticate (${(e as Error).message})`);
    }
  }
}
