import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
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
 * others are kept only while a rotation re-encrypts records written under them. A file that group or
 * others may read (or that is not a regular file) is refused: it would hand every run-as account away.
 */
export function readVaultKeys(file: string): VaultKey[] {
  const st = statSync(file);
  if (!st.isFile()) throw new Error(`VAULT_KEY_FILE ${file} is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`VAULT_KEY_FILE ${file} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${file}`);
  }
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error(`VAULT_KEY_FILE ${file} holds no key`);
  return lines.map((line, i) => {
    const key = Buffer.from(line, 'base64');
    if (key.length !== 32) throw new Error(`VAULT_KEY_FILE ${file} line ${i + 1} is not a base64 32-byte key`);
    return vaultKeyFromBytes(key);
  });
}

/** Writes `content` to a new private (0600) file and flushes it to disk; fails if the file exists. */
function writePrivateFile(file: string, content: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The mode given to open is reduced by the umask; make sure it is exactly 0600.
  chmodSync(file, 0o600);
}

/** Replaces the key file atomically (a reader sees the old or the new file, never half of one). */
export function writeVaultKeys(file: string, keys: VaultKey[]): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  writePrivateFile(tmp, keys.map((k) => k.key.toString('base64')).join('\n') + '\n');
  renameSync(tmp, file);
}

/** Creates the key file (0600) with a fresh random key when it does not exist; returns its keys. */
export function ensureVaultKey(file: string): { keys: VaultKey[]; created: boolean } {
  const key = vaultKeyFromBytes(randomBytes(32));
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writePrivateFile(file, key.key.toString('base64') + '\n');
  } catch (e) {
    // Already there (or created by a daemon starting at the same moment): use it, if it is private.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { keys: readVaultKeys(file), created: false };
    throw e;
  }
  return { keys: [key], created: true };
}
