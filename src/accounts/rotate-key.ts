import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AccountStore } from './accounts.ts';
import { keyIdOf, open, seal } from './cipher.ts';
import { setActiveKeyId } from './key-agreement.ts';
import { readVaultKeys, vaultKeyFromBytes, writeVaultKeys, type VaultKey } from './vault-key.ts';

/** How long running daemons need to pick up a rewritten key file (they re-read it every 2 s). */
const DAEMON_RELOAD_MS = 3000;
const LOCK_KEY = 'pi:vault:rotation';
const LOCK_TTL_SEC = 600;
const MAX_PASSES = 5;

/**
 * Rotates the vault key without stopping the daemons:
 * 1. the new key goes first in the key file, the old ones stay for decryption; it becomes the
 *    cluster's active key id in Redis at once;
 * 2. once the daemons have reloaded the file (they also re-read it before sealing a record, and when
 *    they meet a record under a key they do not hold yet), every record is re-encrypted under the new
 *    key, compare-and-set, so an update racing with the rotation keeps its own value;
 * 3. once no record uses an old key, the old keys are dropped from the file;
 * 4. after another reload interval, a last sweep re-encrypts any record a slow daemon sealed under an
 *    old key in the meantime (this process still holds the old keys in memory).
 * One rotation at a time (a lock in Redis): two interleaved rotations could drop each other's key.
 */
export async function rotateVaultKey(redis: Redis, keyFile: string, log: (line: string) => void, reloadMs = DAEMON_RELOAD_MS): Promise<{ newKeyId: string; reencrypted: number }> {
  const token = randomBytes(16).toString('hex');
  if ((await redis.set(LOCK_KEY, token, 'EX', LOCK_TTL_SEC, 'NX')) !== 'OK') {
    throw new Error(`another key rotation is running (Redis key ${LOCK_KEY}); wait for it to finish`);
  }
  try {
    return await rotate(redis, keyFile, log, reloadMs);
  } finally {
    await redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, LOCK_KEY, token);
  }
}

async function rotate(redis: Redis, keyFile: string, log: (line: string) => void, reloadMs: number): Promise<{ newKeyId: string; reencrypted: number }> {
  const old = readVaultKeys(keyFile);
  const fresh = vaultKeyFromBytes(randomBytes(32));
  const all: VaultKey[] = [fresh, ...old];
  writeVaultKeys(keyFile, all);
  // The cluster's active key changes with the file: processes on other hosts (their own copy of the
  // file) stop taking jobs until their file holds the new key.
  await setActiveKeyId(redis, fresh.id);
  log(`new key ${fresh.id} written to ${keyFile} (old keys ${old.map((k) => k.id).join(', ')} kept for decryption)`);
  await sleep(reloadMs);
  const store = new AccountStore(redis, () => all, { lockoutThreshold: Number.MAX_SAFE_INTEGER, inUse: async () => [] });
  let reencrypted = 0;
  /** Re-encrypts until no record is under an old key; returns false if some still are after MAX_PASSES. */
  const sweep = async (): Promise<boolean> => {
    for (let pass = 1; ; pass++) {
      reencrypted += await reencryptAll(store, all);
      const stale = await recordsNotUnder(store, fresh.id);
      if (stale.length === 0) return true;
      if (pass === MAX_PASSES) return false;
      log(`${stale.length} record(s) still under an old key; another pass`);
      await sleep(reloadMs);
    }
  };
  if (!(await sweep())) throw new Error(`some records are still encrypted under an old key after ${MAX_PASSES} passes; the old keys were kept in ${keyFile}`);
  if (readVaultKeys(keyFile)[0]?.id !== fresh.id) {
    throw new Error(`${keyFile} was changed by someone else during the rotation; the old keys were kept`);
  }
  writeVaultKeys(keyFile, [fresh]);
  log(`re-encrypted ${reencrypted} record(s); old keys removed from ${keyFile}`);
  // A daemon that had not reloaded yet may have sealed a record under an old key meanwhile: this
  // process still holds the old keys, so it can move such a record to the new key.
  await sleep(reloadMs);
  const before = reencrypted;
  if (!(await sweep())) {
    writeVaultKeys(keyFile, all);
    throw new Error(`some records were written under an old key during the rotation and could not be re-encrypted; the old keys were put back in ${keyFile}`);
  }
  if (reencrypted > before) log(`re-encrypted ${reencrypted - before} record(s) written under an old key during the rotation`);
  return { newKeyId: fresh.id, reencrypted };
}

/**
 * Re-encrypts every record not yet under the current (first) of `keys`, compare-and-set per record.
 * Returns how many records were rewritten.
 */
export async function reencryptAll(store: AccountStore, keys: VaultKey[]): Promise<number> {
  const current = keys[0];
  if (!current) throw new Error('no vault key loaded');
  let count = 0;
  for (const id of await store.ids()) {
    const sealed = await store.sealedSecret(id);
    if (!sealed || keyIdOf(sealed) === current.id) continue;
    const resealed = seal(current, id, open(keys, id, sealed));
    // Only replace what we read: an update racing with us keeps its own (already current-key) value.
    if (await store.replaceSealedSecret(id, sealed, resealed)) count++;
  }
  return count;
}

/** Ids of the accounts whose secret is sealed under another key than `keyId`. */
export async function recordsNotUnder(store: AccountStore, keyId: string): Promise<string[]> {
  const stale: string[] = [];
  for (const id of await store.ids()) {
    const sealed = await store.sealedSecret(id);
    if (sealed && keyIdOf(sealed) !== keyId) stale.push(id);
  }
  return stale;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
