import type { Redis } from 'ioredis';
import type { PushError } from '../errors/push-error.ts';
import type { VaultKey } from './vault-key.ts';

/** The cluster's active vault key id (a fingerprint, no secret) and every id that has ever been active. */
export const ACTIVE_KEY_ID = 'pi:vault:active-key-id';
const KNOWN_KEY_IDS = 'pi:vault:key-ids';

export type KeyAgreement =
  | { agreed: true; activeKeyId: string }
  | { agreed: false; activeKeyId: string | null; missing: string[]; reason: string };

/** A start-up refusal: this process's VAULT_KEY_FILE lacks a key the cluster uses (exit code 2). */
export class KeyAgreementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyAgreementError';
  }
}

/**
 * A run-as account's secret is sealed under a key this process does not hold. Whether that is a
 * mis-keyed process (the job goes back to the queue) or a tampered record (99025, `undecryptable`) is
 * decided by the key agreement, not here.
 */
export class VaultKeyNotHeld extends Error {
  constructor(readonly keyId: string, readonly undecryptable: PushError) {
    super(`the run-as account's secret is sealed under vault key ${keyId}, which this process does not hold`);
    this.name = 'VaultKeyNotHeld';
  }
}

/** Records `keyId` as the cluster's active key (a rotation: in the same step as writing the new key file). */
export async function setActiveKeyId(redis: Redis, keyId: string): Promise<void> {
  await redis.multi().set(ACTIVE_KEY_ID, keyId).sadd(KNOWN_KEY_IDS, keyId).exec();
}

/** What a check needs: the keys (read after Redis), the key ids the stored accounts are sealed under, the key file's path. */
export interface AgreementInputs {
  keys: () => VaultKey[];
  sealedUnder: () => Promise<Set<string>>;
  file: string;
}

/**
 * Whether this process holds the cluster's active key and every (genuine) key a stored account is sealed
 * under. The first process to check claims the active id for its current key, unless stored accounts
 * use a key it lacks (a deployment from before key agreement: the accounts tell which key is right).
 * A record naming an id that was never active is a tampered record (99025 when used), not a reason to stop.
 */
export async function checkKeyAgreement(redis: Redis, { keys, sealedUnder, file }: AgreementInputs): Promise<KeyAgreement> {
  // Redis first, the key file after: a rotation writes the file before it sets the id (and re-encrypts),
  // so a process that holds the new key never sees the new id without it.
  const used = [...(await sealedUnder())];
  let active = await redis.get(ACTIVE_KEY_ID);
  const known = new Set(await redis.smembers(KNOWN_KEY_IDS));
  const loaded = keys();
  const held = new Set(loaded.map((k) => k.id));
  if (active === null && loaded[0] && used.every((id) => held.has(id))) {
    await redis.multi().set(ACTIVE_KEY_ID, loaded[0].id, 'NX').sadd(KNOWN_KEY_IDS, loaded[0].id).exec();
    active = await redis.get(ACTIVE_KEY_ID);
    known.add(loaded[0].id);
  }
  const needed = new Set([...(active === null ? [] : [active]), ...used.filter((id) => active === null || known.has(id))]);
  const missing = [...needed].filter((id) => !held.has(id));
  if (active !== null && missing.length === 0) return { agreed: true, activeKeyId: active };
  const expected = active ?? missing.join(', ');
  const reason = `VAULT_KEY_FILE ${file} holds vault key ${[...held].join(', ') || '(none)'} but this cluster's active key is ${expected}` +
    `${active !== null && missing.some((id) => id !== active) ? ` (stored accounts also use ${missing.filter((id) => id !== active).join(', ')})` : ''}` +
    `: copy the key file from a host whose daemon runs (e.g. scp <that-host>:${file} ${file} && chmod 600 ${file})`;
  return { agreed: false, activeKeyId: active, missing, reason };
}

/** What the worker, the API and the process-server list read of the agreement. */
export interface KeyAgreementView {
  current(): KeyAgreement;
  /** Checks again now (a job met a record under a key not held). */
  checkNow(): Promise<KeyAgreement>;
  onChange(listener: (state: KeyAgreement) => void): void;
}

/** Re-checks the agreement periodically (the keyring re-reads the key file first) and tells listeners when it changes. */
export class KeyAgreementMonitor implements KeyAgreementView {
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: Array<(state: KeyAgreement) => void> = [];

  constructor(private state: KeyAgreement, private readonly check: () => Promise<KeyAgreement>) {}

  current(): KeyAgreement {
    return this.state;
  }

  onChange(listener: (state: KeyAgreement) => void): void {
    this.listeners.push(listener);
  }

  async checkNow(): Promise<KeyAgreement> {
    const next = await this.check();
    const changed = next.agreed !== this.state.agreed || next.activeKeyId !== this.state.activeKeyId;
    this.state = next;
    if (changed) for (const l of this.listeners) l(next);
    return next;
  }

  watch(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.checkNow().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
