import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';
import { PIN_SPECS, SSH_PINS, TLS_PINS, type PinKind } from './pin-kinds.ts';
import { PinStore, type HostPin } from './pin-store.ts';

export type { PinKind } from './pin-kinds.ts';
export { PIN_KINDS } from './pin-kinds.ts';
export type { HostPin, PinVerifier } from './pin-store.ts';

export interface PinRequest {
  kind: PinKind;
  address: string;
  /** Default: 22 for ssh, 5986 (WinRM over HTTPS) for tls. */
  port?: number;
  fingerprint: string;
  keyType?: string | null;
}

/**
 * Guest trust: the SSH host keys (`ssh`) and WinRM HTTPS certificates (`tls`) pinned per address and
 * port. The pipeline verifies through `ssh` and `tls`; operators list, pre-seed and forget pins of both.
 */
export class HostKeyStore {
  readonly ssh: PinStore;
  readonly tls: PinStore;

  /** `logger`: where a policy of `off` also warns at warn level (besides the job log). */
  constructor(redis: Redis, logger?: Pick<Logger, 'warn'>) {
    this.ssh = new PinStore(redis, SSH_PINS, logger);
    this.tls = new PinStore(redis, TLS_PINS, logger);
  }

  private of(kind: PinKind): PinStore {
    return kind === 'ssh' ? this.ssh : this.tls;
  }

  /** Every pin of both kinds, by address, port, then kind. */
  async list(): Promise<HostPin[]> {
    const all = (await Promise.all([this.ssh.list(), this.tls.list()])).flat();
    return all.sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port || a.kind.localeCompare(b.kind));
  }

  /** Pre-seeds (or replaces) a pin; throws a ValidationError naming the field for a malformed fingerprint. */
  async pin(req: PinRequest): Promise<HostPin> {
    const port = req.port ?? PIN_SPECS[req.kind].defaultPort;
    return this.of(req.kind).pin(req.address, port, req.fingerprint, req.keyType ?? null);
  }

  /** Forgets the pins of both kinds at address:port; false if there was none. */
  async forget(address: string, port: number): Promise<boolean> {
    const removed = await Promise.all([this.ssh.forget(address, port), this.tls.forget(address, port)]);
    return removed.includes(true);
  }
}
