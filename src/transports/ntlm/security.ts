// NTLM session security with extended session security (MS-NLMP 3.4.3, 3.4.4): message signatures
// and sealing with per-direction keys, RC4 handles and sequence numbers. Connection-oriented: the
// RC4 state runs on across messages, so messages must be signed/sealed and checked in order.
import { timingSafeEqual } from 'node:crypto';
import { deriveKeys, hmacMd5 } from './crypto.ts';
import { NegotiateFlags } from './flags.ts';
import { Rc4 } from './rc4.ts';

export class NtlmSignatureError extends Error {
  constructor() {
    super('NTLM: message signature does not verify');
    this.name = 'NtlmSignatureError';
  }
}

class Direction {
  seq = 0;
  readonly signKey: Buffer;
  readonly handle: Rc4;
  constructor(keys: { signKey: Buffer; sealKey: Buffer }) {
    this.signKey = keys.signKey;
    this.handle = new Rc4(keys.sealKey);
  }
}

export interface SealedMessage {
  /** The encrypted message, same length as the input. */
  data: Buffer;
  /** NTLMSSP_MESSAGE_SIGNATURE, 16 bytes. */
  signature: Buffer;
}

export class NtlmSecurity {
  private readonly out: Direction;
  private readonly in: Direction;
  private readonly keyExch: boolean;

  constructor(exportedSessionKey: Buffer, flags: number, role: 'client' | 'server') {
    if (!(flags & NegotiateFlags.EXTENDED_SESSIONSECURITY)) {
      throw new Error('NTLM session security needs extended session security');
    }
    const client = deriveKeys(exportedSessionKey, flags, 'client');
    const server = deriveKeys(exportedSessionKey, flags, 'server');
    this.out = new Direction(role === 'client' ? client : server);
    this.in = new Direction(role === 'client' ? server : client);
    this.keyExch = (flags & NegotiateFlags.KEY_EXCH) !== 0;
  }

  private signature(dir: Direction, message: Uint8Array): Buffer {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(dir.seq, 0);
    dir.seq = (dir.seq + 1) >>> 0;
    let checksum = hmacMd5(dir.signKey, seq, message).subarray(0, 8);
    if (this.keyExch) checksum = dir.handle.update(checksum);
    const sig = Buffer.alloc(16);
    sig.writeUInt32LE(1, 0);
    checksum.copy(sig, 4);
    seq.copy(sig, 12);
    return sig;
  }

  /** GSS_GetMIC: a signature over `message` with the next outgoing sequence number. */
  sign(message: Uint8Array): Buffer {
    return this.signature(this.out, message);
  }

  /** GSS_VerifyMIC: checks a peer's signature over `message` (next incoming sequence number). */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    const expected = this.signature(this.in, message);
    return signature.length === 16 && timingSafeEqual(expected, signature);
  }

  /** GSS_WrapEx with confidentiality: encrypts `message` and signs the plaintext. */
  seal(message: Uint8Array): SealedMessage {
    const data = this.out.handle.update(message);
    return { data, signature: this.signature(this.out, message) };
  }

  /** GSS_UnwrapEx: decrypts and checks the signature; throws NtlmSignatureError if it fails. */
  unseal(data: Uint8Array, signature: Uint8Array): Buffer {
    const message = this.in.handle.update(data);
    if (!this.verify(message, signature)) throw new NtlmSignatureError();
    return message;
  }
}
