import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import type { HostKeyPolicy } from '../jobs/types.ts';

export interface HostKeyPin {
  /** `address:port` */
  host: string;
  fingerprint: string;
  keyType: string | null;
  source: 'first-use' | 'pre-seeded';
  pinnedAt: string;
  lastSeenAt: string | null;
}

const KEY = 'pi:host-keys';
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function hostId(address: string, port: number): string {
  return `${address.toLowerCase()}:${port}`;
}

/**
 * SSH host trust: keys pinned per address and port. `tofu` pins the first key seen and refuses a
 * different one later; `strict` accepts only pre-seeded pins; `off` accepts anything (and says so).
 */
export class HostKeyStore {
  constructor(private readonly redis: Redis) {}

  async list(): Promise<HostKeyPin[]> {
    const all = await this.redis.hgetall(KEY);
    return Object.values(all).map((v) => JSON.parse(v) as HostKeyPin).sort((a, b) => a.host.localeCompare(b.host));
  }

  async get(address: string, port: number): Promise<HostKeyPin | null> {
    const raw = await this.redis.hget(KEY, hostId(address, port));
    return raw ? (JSON.parse(raw) as HostKeyPin) : null;
  }

  /** Pre-seeds (or replaces) a pin, e.g. from the hypervisor's inventory. */
  async pin(address: string, port: number, fingerprint: string, keyType: string | null = null): Promise<HostKeyPin> {
    const fp = fingerprint.trim();
    if (!FINGERPRINT.test(fp)) throw new ValidationError('fingerprint', 'must be an OpenSSH SHA256 fingerprint: SHA256: followed by 43 base64 characters');
    const pin: HostKeyPin = { host: hostId(address, port), fingerprint: fp, keyType, source: 'pre-seeded', pinnedAt: new Date().toISOString(), lastSeenAt: null };
    await this.redis.hset(KEY, pin.host, JSON.stringify(pin));
    return pin;
  }

  async forget(address: string, port: number): Promise<boolean> {
    return (await this.redis.hdel(KEY, hostId(address, port))) === 1;
  }

  verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string, keyType: string) => Promise<void> {
    const id = hostId(address, port);
    return async (fingerprint, keyType) => {
      if (policy === 'off') {
        log(`WARNING: host key checking is off for ${id}; accepted ${keyType} key ${fingerprint} without verification`);
        return;
      }
      const pinned = await this.get(address, port);
      if (!pinned) {
        if (policy === 'strict') {
          throw new PushError(Codes.HostKeyMismatch, { host: id, presented: fingerprint, keyType, policy, pinned: null,
            howToAccept: `npm run cli -- host-keys pin ${address} ${fingerprint} --port ${port}` },
          { message: `Host key of ${id} is not pre-seeded and the policy is strict (it presented ${keyType} ${fingerprint}).` });
        }
        // Trust on first use; HSETNX so two jobs racing for the first pin cannot both win with different keys.
        const pin: HostKeyPin = { host: id, fingerprint, keyType, source: 'first-use', pinnedAt: new Date().toISOString(), lastSeenAt: new Date().toISOString() };
        const set = await this.redis.hsetnx(KEY, id, JSON.stringify(pin));
        if (set === 1) { log(`pinned ${keyType} host key ${fingerprint} for ${id} (trust on first use)`); return; }
        return this.verifier(address, port, policy, log)(fingerprint, keyType);
      }
      if (pinned.fingerprint !== fingerprint) {
        throw new PushError(Codes.HostKeyMismatch, {
          host: id, pinned: pinned.fingerprint, presented: fingerprint, keyType, pinnedAt: pinned.pinnedAt, source: pinned.source,
          howToAccept: `npm run cli -- host-keys pin ${address} ${fingerprint} --port ${port}   (or DELETE /api/v1/host-keys/${encodeURIComponent(id)})`,
        }, { message: `Host key of ${id} changed: pinned ${pinned.fingerprint}, presented ${fingerprint}.` });
      }
      if (pinned.keyType === null || pinned.lastSeenAt === null || Date.parse(pinned.lastSeenAt) < Date.now() - 60_000) {
        await this.redis.hset(KEY, id, JSON.stringify({ ...pinned, keyType: pinned.keyType ?? keyType, lastSeenAt: new Date().toISOString() }));
      }
    };
  }
}
