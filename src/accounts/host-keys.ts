import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import type { HostKeyPolicy } from '../domain/os.ts';
import type { Logger } from '../logging/logger.ts';

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
  /** `logger`: where `off` also warns at warn level (besides the job log). */
  constructor(private readonly redis: Redis, private readonly logger?: Pick<Logger, 'warn'>) {}

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
    const acceptCommand = (fingerprint: string) => `npm run cli -- host-keys pin ${address} ${fingerprint} --port ${port}`;
    const verify = async (fingerprint: string, keyType: string): Promise<void> => {
      if (policy === 'off') {
        const warning = `WARNING: host key checking is off for ${id}; accepted ${keyType} key ${fingerprint} without verification`;
        log(warning);
        this.logger?.warn({ host: id, fingerprint, keyType, policy }, warning);
        return;
      }
      const raw = await this.redis.hget(KEY, id);
      const pinned = raw ? (JSON.parse(raw) as HostKeyPin) : null;
      if (!pinned) {
        if (policy === 'strict') {
          throw new PushError(Codes.HostKeyMismatch, { host: id, presented: fingerprint, keyType, policy, pinned: null, howToAccept: acceptCommand(fingerprint) }, {
            message: `Host key of ${id} is not pre-seeded and the host key policy is strict (the machine presented ${keyType} ${fingerprint}). `
              + `If that is the machine's key, pre-seed it: ${acceptCommand(fingerprint)}`,
          });
        }
        // Trust on first use; HSETNX so two jobs racing for the first pin cannot both win with different keys.
        const pin: HostKeyPin = { host: id, fingerprint, keyType, source: 'first-use', pinnedAt: new Date().toISOString(), lastSeenAt: new Date().toISOString() };
        if ((await this.redis.hsetnx(KEY, id, JSON.stringify(pin))) === 1) { log(`pinned ${keyType} host key ${fingerprint} for ${id} (trust on first use)`); return; }
        return verify(fingerprint, keyType);
      }
      if (pinned.fingerprint !== fingerprint) {
        throw new PushError(Codes.HostKeyMismatch, {
          host: id, pinned: pinned.fingerprint, presented: fingerprint, keyType, pinnedAt: pinned.pinnedAt, source: pinned.source, policy,
          howToAccept: `${acceptCommand(fingerprint)}   (or forget the pin: DELETE /api/v1/host-keys/${encodeURIComponent(id)})`,
        }, {
          message: `Host key of ${id} changed: pinned ${pinned.fingerprint}, presented ${fingerprint}. `
            + `If the new key is right (verify it out of band), accept it: ${acceptCommand(fingerprint)}`,
        });
      }
      log(`host key of ${id} matches the pinned ${pinned.keyType ?? keyType} key ${fingerprint}`);
      if (pinned.keyType === null || pinned.lastSeenAt === null || Date.parse(pinned.lastSeenAt) < Date.now() - 60_000) {
        // Only if the pin is still the one we read: never write an old pin back over a new one.
        const next = JSON.stringify({ ...pinned, keyType: pinned.keyType ?? keyType, lastSeenAt: new Date().toISOString() });
        await this.redis.eval(`if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end return 0`, 1, KEY, id, raw as string, next);
      }
    };
    return verify;
  }
}
