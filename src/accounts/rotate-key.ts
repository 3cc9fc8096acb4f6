import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AccountStore } from './accounts.ts';
import { keyIdOf } from './cipher.ts';
import { readVaultKeys, vaultKeyFromBytes, writeVaultKeys } from './vault-key.ts';

/** How long running daemons need to pick up a rewritten key file (they re-read it every 2 s). */
const DAEMON_RELOAD_MS = 3000;

/**
 * Rotates the vault key without stopping the daemons: (1) the new key goes first in the key file, the
 * old ones stay for decryption; (2) after the daemons have reloaded it, every record is re-encrypted
 * under the new key; (3) once no record uses an old key, the old keys are dropped from the file.
 */
export async function rotateVaultKey(redis: Redis, keyFile: string, log: (line: string) => void, reloadMs = DAEMON_RELOAD_MS): Promise<{ newKeyId: string; reencrypted: number }> {
  const old = readVaultKeys(keyFile);
  const fresh = vaultKeyFromBytes(randomBytes(32));
  writeVaultKeys(keyFile, [fresh, ...old]);
  log(`new key ${fresh.id} written to ${keyFile} (old keys ${old.map((k) => k.id).join(', ')} kept for decryption)`);
  await new Promise((r) => setTimeout(r, reloadMs));
  const store = new AccountStore(redis, () => [fresh, ...old], { lockoutThreshold: 3, inUse: async () => [] });
  let reencrypted = 0;
  for (let pass = 0; pass < 5; pass++) {
    reencrypted += await store.reencryptAll();
    const stale = await recordsNotUnder(redis, fresh.id);
    if (stale.length === 0) {
      writeVaultKeys(keyFile, [fresh]);
      log(`re-encrypted ${reencrypted} record(s); old keys removed from ${keyFile}`);
      return { newKeyId: fresh.id, reencrypted };
    }
    log(`${stale.length} record(s) still under an old key; another pass`);
    await new Promise((r) => setTimeout(r, reloadMs));
  }
  throw new Error('some records are still encrypted under an old key after 5 passes; the old keys were kept in the key file');
}

async function recordsNotUnder(redis: Redis, keyId: string): Promise<string[]> {
  const ids = await redis.smembers('pi:accounts');
  const stale: string[] = [];
  for (const id of ids) {
    const sealed = await redis.hget(`pi:account:${id}`, 'secret');
    if (sealed && keyIdOf(sealed) !== keyId) stale.push(id);
  }
  return stale;
}
