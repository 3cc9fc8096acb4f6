import { ensureVaultKey, readVaultKeys, type VaultKey } from './vault-key.ts';

/**
 * The vault keys of a running daemon. A key rotation (CLI, another process) rewrites the key file; the
 * keyring re-reads it every few seconds, and at once when asked (a record under a key it does not hold
 * yet, or before sealing a record so it is always sealed under the file's current key). A file that
 * becomes unreadable or unsafe keeps the last good keys, and says so once.
 */
export class VaultKeyring {
  private current: VaultKey[];
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;

  private constructor(readonly file: string, keys: VaultKey[], private readonly warn: (message: string) => void) {
    this.current = keys;
  }

  /** Opens (creating it 0600 on first start) the key file. */
  static open(file: string, warn: (message: string) => void = () => undefined): { keyring: VaultKeyring; created: boolean } {
    const { keys, created } = ensureVaultKey(file);
    return { keyring: new VaultKeyring(file, keys, warn), created };
  }

  keys(): VaultKey[] {
    return this.current;
  }

  /** Re-reads the key file now; on failure keeps (and returns) the last good keys. */
  reload(): VaultKey[] {
    try {
      this.current = readVaultKeys(this.file);
      if (this.lastError !== null) this.warn(`VAULT_KEY_FILE ${this.file} is readable again; using its keys`);
      this.lastError = null;
    } catch (e) {
      const message = (e as Error).message;
      if (message !== this.lastError) this.warn(`cannot re-read the vault key file (${message}); keeping the keys loaded before`);
      this.lastError = message;
    }
    return this.current;
  }

  /** Re-reads the file every `intervalMs` (a rotation waits longer than that before re-encrypting). */
  watch(intervalMs = 2000): void {
    this.stop();
    this.timer = setInterval(() => this.reload(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
