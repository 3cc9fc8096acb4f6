// Key rotation against a real Redis: every record ends under the new key, the old key leaves the file,
// a record a slow daemon sealed under the old key meanwhile is swept up, and one rotation runs at a time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AccountStore } from '../../src/accounts/accounts.ts';
import { keyIdOf, open } from '../../src/accounts/cipher.ts';
import { VaultKeyring } from '../../src/accounts/keyring.ts';
import { rotateVaultKey } from '../../src/accounts/rotate-key.ts';
import { readVaultKeys, type VaultKey } from '../../src/accounts/vault-key.ts';
import { useLabRedis } from './lab-redis.ts';

describe('vault key rotation', () => {
  const lab = useLabRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-rotate-'));
  const file = path.join(dir, 'vault.key');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('re-encrypts every record, drops the old key, and sweeps up a record a slow daemon sealed under it', async () => {
    const { keyring } = VaultKeyring.open(file);
    const old = keyring.keys()[0] as VaultKey;
    const store = new AccountStore(lab.redis, () => keyring.keys(), { lockoutThreshold: 3, inUse: async () => [], reloadKeys: () => keyring.reload() });
    const passwords = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const password = `rotate-password-${i}`;
      passwords.set((await store.create({ name: `acct ${i}`, osFamily: 'linux', username: 'root', password })).id, password);
    }
    // A daemon that never reloads its keys (the worst laggard) keeps sealing under the old key.
    const laggard = new AccountStore(lab.redis, () => [old], { lockoutThreshold: 3, inUse: async () => [] });
    let lateWrite: Promise<unknown> = Promise.resolve();
    const lines: string[] = [];
    const result = await rotateVaultKey(lab.redis, file, (line) => {
      lines.push(line);
      if (/old keys removed/.test(line)) {
        lateWrite = laggard.create({ name: 'late', osFamily: 'linux', username: 'root', password: 'late-password' })
          .then((a) => passwords.set(a.id, 'late-password'));
      }
    }, 1000);
    await lateWrite;
    const keys = readVaultKeys(file);
    assert.deepEqual(keys.map((k) => k.id), [result.newKeyId], 'only the new key is left');
    assert.notEqual(result.newKeyId, old.id);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(result.reencrypted, 21, lines.join('\n'));
    assert.ok(lines.some((l) => /written under an old key during the rotation/.test(l)), lines.join('\n'));
    for (const [id, password] of passwords) {
      const sealed = (await lab.redis.hget(`pi:account:${id}`, 'secret')) as string;
      assert.equal(keyIdOf(sealed), result.newKeyId);
      assert.deepEqual(JSON.parse(open(keys, id, sealed).toString()), { password });
      assert.throws(() => open([old], id, sealed), /does not hold/);
    }
    // The daemon's store keeps working with the rotated file.
    assert.equal((await store.forConnection([...passwords.keys()][0] as string)).secrets.password, 'rotate-password-0');
  });

  it('refuses a second rotation while one runs', async () => {
    const first = rotateVaultKey(lab.redis, file, () => undefined, 200);
    await assert.rejects(rotateVaultKey(lab.redis, file, () => undefined, 200), /another key rotation is running/);
    await first;
    assert.equal(readVaultKeys(file).length, 1);
    assert.equal(await lab.redis.exists('pi:vault:rotation'), 0, 'lock released');
  });
});
