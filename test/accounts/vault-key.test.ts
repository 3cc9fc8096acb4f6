// The vault key file: created 0600 on first start (whatever the umask), refused when group or others
// may read it, several keys (first = current), atomic private rewrites; and the daemon's keyring that
// re-reads it and keeps the last good keys when the file turns unsafe.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { VaultKeyring } from '../../src/accounts/keyring.ts';
import { ensureVaultKey, readVaultKeys, vaultKeyFromBytes, writeVaultKeys } from '../../src/accounts/vault-key.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'pi-vault-key-'));
const mode = (f: string) => statSync(f).mode & 0o777;

describe('vault key file', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is created 0600 with one 32-byte key, even under a permissive umask, in a new 0700 folder', () => {
    const file = path.join(dir, 'new', 'vault.key');
    const old = process.umask(0);
    try {
      const res = ensureVaultKey(file);
      assert.equal(res.created, true);
      assert.equal(res.keys.length, 1);
    } finally {
      process.umask(old);
    }
    assert.equal(mode(file), 0o600);
    assert.equal(mode(path.dirname(file)), 0o700);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(Buffer.from(lines[0] as string, 'base64').length, 32);
    // A second start uses the same key.
    const again = ensureVaultKey(file);
    assert.equal(again.created, false);
    assert.equal(again.keys[0]?.id, readVaultKeys(file)[0]?.id);
  });

  it('is refused when group or others may read it, or when it is not a regular file', () => {
    const file = path.join(dir, 'shared.key');
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    for (const bad of [0o640, 0o604, 0o644, 0o660]) {
      chmodSync(file, bad);
      assert.throws(() => readVaultKeys(file), new RegExp(`readable by group or others \\(mode 0${bad.toString(8)}\\); run chmod 600`));
      assert.throws(() => ensureVaultKey(file), /readable by group or others/);
    }
    chmodSync(file, 0o400);
    assert.equal(readVaultKeys(file).length, 1);
    const folder = path.join(dir, 'a-folder.key');
    mkdirSync(folder, { mode: 0o700 });
    assert.throws(() => readVaultKeys(folder), /not a regular file/);
  });

  it('holds several keys, first = current; bad lines are refused', () => {
    const file = path.join(dir, 'multi.key');
    const keys = [vaultKeyFromBytes(randomBytes(32)), vaultKeyFromBytes(randomBytes(32))];
    writeVaultKeys(file, keys);
    assert.equal(mode(file), 0o600);
    assert.deepEqual(readVaultKeys(file).map((k) => k.id), keys.map((k) => k.id));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
    chmodSync(file, 0o600);
    writeFileSync(file, `${keys[0]?.key.toString('base64')}\nbm90IGEga2V5\n`);
    assert.throws(() => readVaultKeys(file), /line 2 is not a base64 32-byte key/);
    writeFileSync(file, '# nothing\n');
    assert.throws(() => readVaultKeys(file), /holds no key/);
  });

  it('the keyring re-reads the file, keeps the last good keys when it turns unsafe, and says so once', () => {
    const file = path.join(dir, 'ring.key');
    const warnings: string[] = [];
    const { keyring, created } = VaultKeyring.open(file, (m) => warnings.push(m));
    assert.equal(created, true);
    const first = keyring.keys()[0];
    const next = vaultKeyFromBytes(randomBytes(32));
    writeVaultKeys(file, [next, first as NonNullable<typeof first>]);
    assert.equal(keyring.keys()[0]?.id, first?.id, 'cached until reloaded');
    assert.deepEqual(keyring.reload().map((k) => k.id), [next.id, first?.id]);
    chmodSync(file, 0o644);
    assert.deepEqual(keyring.reload().map((k) => k.id), [next.id, first?.id], 'last good keys kept');
    keyring.reload();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] as string, /readable by group or others.*keeping the keys loaded before/);
    chmodSync(file, 0o600);
    keyring.reload();
    assert.equal(warnings.length, 2);
    assert.match(warnings[1] as string, /readable again/);
  });
});
