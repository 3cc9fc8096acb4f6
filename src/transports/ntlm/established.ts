import { NtlmSecurity } from './security.ts';
import type { SealedMessage } from './security.ts';

/**
 * What both ends of an NTLM exchange offer once it is done: the exported session key and message
 * integrity/confidentiality (sign, verify, seal, unseal) with the side's own keys and sequence numbers.
 */
export abstract class EstablishedNtlm {
  private security: NtlmSecurity | undefined;
  private exportedKey: Buffer | undefined;

  protected establish(exportedKey: Buffer, flags: number, side: 'client' | 'server'): void {
    this.exportedKey = exportedKey;
    this.security = new NtlmSecurity(exportedKey, flags, side);
  }

  get established(): boolean {
    return this.security !== undefined;
  }

  /** The exported session key (SMB's session key). */
  get sessionKey(): Buffer {
    if (!this.exportedKey) throw new Error('NTLM session is not established');
    return this.exportedKey;
  }

  private ctx(): NtlmSecurity {
    if (!this.security) throw new Error('NTLM session is not established');
    return this.security;
  }

  sign(message: Uint8Array): Buffer {
    return this.ctx().sign(message);
  }

  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return this.ctx().verify(message, signature);
  }

  seal(message: Uint8Array): SealedMessage {
    return this.ctx().seal(message);
  }

  unseal(data: Uint8Array, signature: Uint8Array): Buffer {
    return this.ctx().unseal(data, signature);
  }
}
