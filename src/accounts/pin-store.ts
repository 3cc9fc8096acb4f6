import type { Redis } from 'ioredis';
import type { HostKeyPolicy } from '../domain/os.ts';
import { ValidationError } from '../errors/validation-error.ts';
import type { Logger } from '../logging/logger.ts';
import { hostId, type PinKind, type PinKindSpec, type Presented, type StoredPin } from './pin-kinds.ts';

/** A pin as the API and operators see it. */
export interface HostPin {
  kind: PinKind;
  address: string;
  port: number;
  fingerprint: string;
  keyType: string | null;
  source: 'first-use' | 'pre-seeded';
  /** When the pin was made (on first use, or when it was pre-seeded). */
  firstSeen: string;
  /** The last connection that presented it (updated at most once a minute; null: never used yet). */
  lastSeen: string | null;
}

/** Called by a transport during its handshake; throws (99005 / 99024) to refuse the guest. */
export type PinVerifier = (fingerprint: string, keyType?: string) => Promise<void>;

/** How stale `lastSeen` may get before a verification writes it again (saves a write per connection). */
const LAST_SEEN_EVERY_MS = 60_000;
/** Writes `ARGV[3]` only if the field still holds what the verifier read: never an old pin over a new one. */
const COMPARE_AND_SET = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end return 0`;

function view(kind: PinKind, stored: StoredPin): HostPin {
  const at = stored.host.lastIndexOf(':');
  return {
    kind, address: stored.host.slice(0, at), port: Number(stored.host.slice(at + 1)), fingerprint: stored.fingerprint,
    keyType: stored.keyType ?? null, source: stored.source, firstSeen: stored.pinnedAt, lastSeen: stored.lastSeenAt,
  };
}

/**
 * Trust in one kind of guest identity (SSH host keys or WinRM certificates), pinned per address and port.
 * `tofu` pins the first fingerprint seen and refuses a different one later; `strict` accepts only
 * pre-seeded pins; `off` accepts anything and says so (job log and daemon log) on every use.
 */
export class PinStore {
  readonly kind: PinKind;

  /** `logger`: where `off` also warns at warn level (besides the job log). */
  constructor(private readonly redis: Redis, private readonly spec: PinKindSpec, private readonly logger?: Pick<Logger, 'warn'>) {
    this.kind = spec.kind;
  }

  async list(): Promise<HostPin[]> {
    const all = await this.redis.hgetall(this.spec.redisKey);
    return Object.values(all).map((v) => JSON.parse(v) as StoredPin).sort((a, b) => a.host.localeCompare(b.host)).map((p) => view(this.kind, p));
  }

  async get(address: string, port: number): Promise<HostPin | null> {
    const raw = await this.redis.hget(this.spec.redisKey, hostId(address, port));
    return raw ? view(this.kind, JSON.parse(raw) as StoredPin) : null;
  }

  /** Pre-seeds (or replaces) a pin, e.g. from the hypervisor's inventory. */
  async pin(address: string, port: number, fingerprint: string, keyType: string | null = null): Promise<HostPin> {
    const fp = this.spec.normalise(fingerprint);
    this.spec.validate(fp);
    if (keyType !== null && !this.spec.hasKeyType) throw new ValidationError('keyType', 'applies to SSH host keys only');
    const pin: StoredPin = { host: hostId(address, port), fingerprint: fp, keyType, source: 'pre-seeded', pinnedAt: new Date().toISOString(), lastSeenAt: null };
    await this.redis.hset(this.spec.redisKey, pin.host, JSON.stringify(pin));
    return view(this.kind, pin);
  }

  async forget(address: string, port: number): Promise<boolean> {
    return (await this.redis.hdel(this.spec.redisKey, hostId(address, port))) === 1;
  }

  /** A verifier for one guest's handshake, enforcing the policy. */
  verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): PinVerifier {
    const verify: PinVerifier = async (fingerprint, keyType) => {
      const presented: Presented = {
        host: hostId(address, port), address, port, policy,
        fingerprint: this.spec.normalise(fingerprint), keyType: this.spec.hasKeyType ? keyType ?? null : null,
      };
      if (policy === 'off') return this.acceptUnchecked(presented, log);
      const raw = await this.redis.hget(this.spec.redisKey, presented.host);
      if (raw) return this.check(presented, raw, log);
      // Lost the race for the first pin to another job: verify against the pin it made.
      if (!(await this.pinFirstUse(presented, log))) return verify(fingerprint, keyType);
    };
    return verify;
  }

  private acceptUnchecked(p: Presented, log: (line: string) => void): void {
    const warning = this.spec.offWarning(p);
    log(warning);
    this.logger?.warn({ host: p.host, fingerprint: p.fingerprint, keyType: p.keyType, policy: p.policy, kind: this.kind }, warning);
  }

  /** Strict refuses an unknown guest; tofu pins it. False if another job pinned it first. */
  private async pinFirstUse(p: Presented, log: (line: string) => void): Promise<boolean> {
    if (p.policy === 'strict') throw this.spec.notPreSeeded(p);
    const now = new Date().toISOString();
    const pin: StoredPin = { host: p.host, fingerprint: p.fingerprint, keyType: p.keyType, source: 'first-use', pinnedAt: now, lastSeenAt: now };
    // HSETNX: of two jobs racing for the first pin, only one fingerprint can win.
    if ((await this.redis.hsetnx(this.spec.redisKey, p.host, JSON.stringify(pin))) !== 1) return false;
    log(this.spec.pinnedOnFirstUse(p));
    return true;
  }

  /** Refuses a fingerprint other than the pinned one; records when (and, for SSH, as which key type) a pin was last seen. */
  private async check(p: Presented, raw: string, log: (line: string) => void): Promise<void> {
    const pinned = JSON.parse(raw) as StoredPin;
    if (pinned.fingerprint !== p.fingerprint) throw this.spec.changed(p, pinned);
    if (this.spec.matched) log(this.spec.matched(p, pinned));
    const learnsKeyType = (pinned.keyType ?? null) === null && p.keyType !== null;
    if (learnsKeyType || pinned.lastSeenAt === null || Date.parse(pinned.lastSeenAt) < Date.now() - LAST_SEEN_EVERY_MS) {
      const next = JSON.stringify({ ...pinned, keyType: pinned.keyType ?? p.keyType, lastSeenAt: new Date().toISOString() });
      await this.redis.eval(COMPARE_AND_SET, 1, this.spec.redisKey, p.host, raw, next);
    }
  }
}
