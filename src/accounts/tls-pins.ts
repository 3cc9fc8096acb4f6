import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { HostKeyPolicy } from '../domain/os.ts';
import { hostId } from './host-keys.ts';

export interface TlsPin {
  /** `address:port` */
  host: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs separated by colons (Node's fingerprint256). */
  fingerprint: string;
  source: 'first-use' | 'pre-seeded';
  pinnedAt: string;
  lastSeenAt: string | null;
}

const KEY = 'pi:tls-pins';

/** `ab:cd…`, `ABCD…` and `SHA256:ab…` all become `AB:CD:…`, so a pin compares whatever form it came in. */
export function normaliseFingerprint(fingerprint: string): string {
  const hex = fingerprint.trim().replace(/^sha-?256:/i, '').replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  if (hex.length !== 64) return fingerprint.trim();
  return hex.match(/../g)?.join(':') ?? hex;
}

/**
 * WinRM HTTPS certificate trust, per address and port: WinRM listeners mostly use self-signed
 * certificates, so (as for SSH host keys) `tofu` pins the first certificate seen and refuses another one
 * later (99024), `strict` accepts only pre-seeded pins, `off` accepts anything and says so in the job log.
 */
export class TlsPinStore {
  constructor(private readonly redis: Redis) {}

  async list(): Promise<TlsPin[]> {
    const all = await this.redis.hgetall(KEY);
    return Object.values(all).map((v) => JSON.parse(v) as TlsPin).sort((a, b) => a.host.localeCompare(b.host));
  }

  async get(address: string, port: number): Promise<TlsPin | null> {
    const raw = await this.redis.hget(KEY, hostId(address, port));
    return raw ? (JSON.parse(raw) as TlsPin) : null;
  }

  async pin(address: string, port: number, fingerprint: string): Promise<TlsPin> {
    const pin: TlsPin = { host: hostId(address, port), fingerprint: normaliseFingerprint(fingerprint), source: 'pre-seeded', pinnedAt: new Date().toISOString(), lastSeenAt: null };
    await this.redis.hset(KEY, pin.host, JSON.stringify(pin));
    return pin;
  }

  async forget(address: string, port: number): Promise<boolean> {
    return (await this.redis.hdel(KEY, hostId(address, port))) === 1;
  }

  verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string) => Promise<void> {
    const id = hostId(address, port);
    const verify = async (presented: string): Promise<void> => {
      const fingerprint = normaliseFingerprint(presented);
      if (policy === 'off') {
        log(`WARNING: certificate checking is off for ${id}; accepted WinRM certificate ${fingerprint} without verification`);
        return;
      }
      const pinned = await this.get(address, port);
      if (!pinned) {
        if (policy === 'strict') {
          throw new PushError(Codes.CertificateMismatch, { host: id, presented: fingerprint, pinned: null, policy },
            { message: `The WinRM certificate of ${id} is not pre-seeded and the policy is strict (it presented ${fingerprint}).` });
        }
        const pin: TlsPin = { host: id, fingerprint, source: 'first-use', pinnedAt: new Date().toISOString(), lastSeenAt: new Date().toISOString() };
        // HSETNX: of two jobs racing for the first pin, only one certificate can win.
        if ((await this.redis.hsetnx(KEY, id, JSON.stringify(pin))) === 1) {
          log(`pinned WinRM certificate ${fingerprint} for ${id} (trust on first use)`);
          return;
        }
        return verify(presented);
      }
      if (pinned.fingerprint !== fingerprint) {
        throw new PushError(Codes.CertificateMismatch, {
          host: id, pinned: pinned.fingerprint, presented: fingerprint, pinnedAt: pinned.pinnedAt, source: pinned.source,
        }, { message: `The WinRM certificate of ${id} changed: pinned ${pinned.fingerprint}, presented ${fingerprint}.` });
      }
      if (pinned.lastSeenAt === null || Date.parse(pinned.lastSeenAt) < Date.now() - 60_000) {
        await this.redis.hset(KEY, id, JSON.stringify({ ...pinned, lastSeenAt: new Date().toISOString() }));
      }
    };
    return verify;
  }
}
