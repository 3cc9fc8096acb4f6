import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { VaultKey } from './vault-key.ts';

/**
 * AES-256-GCM with a fresh 96-bit nonce per record and the account id bound as associated data, so a
 * ciphertext copied onto another account's record does not decrypt. Format (base64 of):
 * version(1) | keyId(8) | nonce(12) | tag(16) | ciphertext.
 */
const VERSION = 1;

export class VaultDecryptError extends Error {}
/** The record names a key the loaded key list does not hold (yet: a rotation may have just added it). */
export class VaultUnknownKeyError extends VaultDecryptError {}

export function seal(key: VaultKey, accountId: string, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(`pushinstalld:run-as-account:${accountId}`));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), Buffer.from(key.id, 'hex'), nonce, cipher.getAuthTag(), ct]).toString('base64');
}

export function keyIdOf(sealed: string): string {
  return Buffer.from(sealed, 'base64').subarray(1, 9).toString('hex');
}

export function open(keys: VaultKey[], accountId: string, sealed: string): Buffer {
  const buf = Buffer.from(sealed, 'base64');
  if (buf.length < 1 + 8 + 12 + 16 || buf[0] !== VERSION) throw new VaultDecryptError(`account ${accountId}: unknown secret format`);
  const keyId = buf.subarray(1, 9).toString('hex');
  const key = keys.find((k) => k.id === keyId);
  if (!key) throw new VaultUnknownKeyError(`account ${accountId}: its secret is encrypted under key ${keyId}, which VAULT_KEY_FILE does not hold`);
  const decipher = createDecipheriv('aes-256-gcm', key.key, buf.subarray(9, 21));
  decipher.setAAD(Buffer.from(`pushinstalld:run-as-account:${accountId}`));
  decipher.setAuthTag(buf.subarray(21, 37));
  try {
    return Buffer.concat([decipher.update(buf.subarray(37)), decipher.final()]);
  } catch {
    throw new VaultDecryptError(`account ${accountId}: its secret failed authentication (tampered or wrong key)`);
  }
}
