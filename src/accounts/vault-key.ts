import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface VaultKey {
  /** Short id of the key (first 16 hex of its SHA-256), stored with each record to find the right key. */
  id: string;
  key: Buffer;
}

export function vaultKeyFromBytes(key: Buffer): VaultKey {
  if (key.length !== 32) throw new Error('a vault key is 32 bytes');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The key file holds one or more base64 keys, one per line: the first line is the current key, the
 * others are kept only while a rotation re-encrypts records written under them.
 */
export function readVaultKeys(file: string): VaultKey[] {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`VAULT_KEY_FILE ${file} is readable by group or others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  }
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error(`VAULT_KEY_FILE ${file} holds no key`);
  return lines.map((line, i) => {
    const key = Buffer.from(line, 'base64');
    if (key.length !== 32) throw new Error(`VAULT_KEY_FILE ${file} line ${i + 1} is not a base64 32-byte key`);
    return vaultKeyFromBytes(key);
  });
}

export function writeVaultKeys(file: string, keys: VaultKey[]): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, keys.map((k) => k.key.toString('base64')).join('\n') + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  // rename is atomic: a reader sees the old or the new file, never half of one.
  renameSync(tmp, file);
}

/** Creates the key file (0600) with a fresh random key when it does not exist; returns its keys. */
export function ensureVaultKey(file: string): { keys: VaultKey[]; created: boolean } {
  if (existsSync(file)) return { keys: readVaultKeys(file), created: false };
  const key = vaultKeyFromBytes(randomBytes(32));
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, key.key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { keys: [key], created: true };
}
