// AccountStore against a real Redis: only ciphertext stored, public fields only returned, tampered or
// moved records refused, the lockout guard (count, suspend, freeze, lift), Windows account forms, and
// the keyring hand-off during a rotation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { AccountStore, type RunAsAccount } from '../../src/accounts/accounts.ts';
import { keyIdOf, open } from '../../src/accounts/cipher.ts';
import { VaultKeyring } from '../../src/accounts/keyring.ts';
import { recordsNotUnder, reencryptAll } from '../../src/accounts/rotate-key.ts';
import { vaultKeyFromBytes, writeVaultKeys, type VaultKey } from '../../src/accounts/vault-key.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { ConflictError, ValidationError } from '../../src/errors/validation-error.ts';
import { dumpRedis } from '../e2e/fixtures.ts';
import { useLabRedis } from './lab-redis.ts';

const PUBLIC = ['authFailures', 'createdAt', 'domain', 'hasPassword', 'hasPrivateKey', 'id', 'name', 'osFamily', 'suspended', 'suspendedAt', 'updatedAt', 'useSudo', 'username'];

describe('AccountStore', () => {
  const lab = useLabRedis();
  let redis: Redis;
  let keys: VaultKey[];
  let store: AccountStore;
  const inUse = new Map<string, string[]>();
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-accounts-'));

  before(() => {
    redis = lab.redis;
    keys = [vaultKeyFromBytes(randomBytes(32))];
    store = new AccountStore(redis, () => keys, { lockoutThreshold: 3, inUse: async (id) => inUse.get(id) ?? [] });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores only ciphertext, returns only public fields, decrypts for a connection', async () => {
    const password = `Pw-${randomBytes(9).toString('base64')}/+&"`;
    const created = await store.create({ name: 'linux root', osFamily: 'linux', username: 'root', password });
    assert.deepEqual(Object.keys(created).sort(), PUBLIC);
    assert.equal(created.hasPassword, true);
    const stored = await redis.hgetall(`pi:account:${created.id}`);
    assert.deepEqual(Object.keys(stored).sort(), ['meta', 'secret']);
    assert.ok(!(stored.meta as string).includes(password));
    assert.equal(keyIdOf(stored.secret as string), keys[0]?.id);
    const dump = await dumpRedis(redis);
    for (const form of [password, Buffer.from(password).toString('base64'), encodeURIComponent(password), JSON.stringify(password).slice(1, -1)]) {
      assert.ok(!dump.includes(form), `secret form ${form} in Redis`);
    }
    assert.deepEqual(JSON.parse(open(keys, created.id, stored.secret as string).toString()), { password });
    const conn = await store.forConnection(created.id);
    assert.equal(conn.secrets.password, password);
    for (const view of [await store.get(created.id), ...(await store.list())]) assert.deepEqual(Object.keys(view).sort(), PUBLIC);
  });

  it('returns public fields only, even if a stored record carried more', async () => {
    const acct = await store.create({ name: 'extra', osFamily: 'linux', username: 'root', password: 'pw-extra-1' });
    const meta = JSON.parse((await redis.hget(`pi:account:${acct.id}`, 'meta')) as string) as Record<string, unknown>;
    await redis.hset(`pi:account:${acct.id}`, 'meta', JSON.stringify({ ...meta, password: 'leaked-by-a-bug' }));
    assert.ok(!JSON.stringify(await store.get(acct.id)).includes('leaked-by-a-bug'));
    assert.ok(!JSON.stringify(await store.list()).includes('leaked-by-a-bug'));
  });

  it('refuses a tampered record and a record moved onto another account; an update with new credentials repairs it', async () => {
    const a = await store.create({ name: 'a', osFamily: 'linux', username: 'root', password: 'password-of-a' });
    const b = await store.create({ name: 'b', osFamily: 'linux', username: 'root', password: 'password-of-b' });
    const sealedA = (await redis.hget(`pi:account:${a.id}`, 'secret')) as string;
    // Moved: a's (valid) ciphertext on b's record.
    await redis.hset(`pi:account:${b.id}`, 'secret', sealedA);
    await assert.rejects(store.forConnection(b.id), (e: unknown) => {
      assert.ok(e instanceof PushError);
      assert.match(e.message, /stored secret of run-as account "b" cannot be decrypted/);
      assert.match(String(e.details.cause), /failed authentication \(tampered or wrong key\)/);
      return true;
    });
    // Tampered: one byte of a's ciphertext flipped.
    const buf = Buffer.from(sealedA, 'base64');
    buf[buf.length - 1] = (buf[buf.length - 1] as number) ^ 0x80;
    await redis.hset(`pi:account:${a.id}`, 'secret', buf.toString('base64'));
    await assert.rejects(store.forConnection(a.id), /cannot be decrypted/);
    // An update that does not give the secret again cannot keep it.
    await assert.rejects(store.update(a.id, { name: 'renamed' }), (e: unknown) => e instanceof ValidationError && /cannot be decrypted.*give the password or privateKey again/.test((e as Error).message));
    await store.update(a.id, { password: 'new-password-of-a' });
    assert.equal((await store.forConnection(a.id)).secrets.password, 'new-password-of-a');
  });

  it('suspends after 3 consecutive failures, stops counting, refuses before decrypting, and an update lifts it', async () => {
    const acct = await store.create({ name: 'lockme', osFamily: 'linux', username: 'root', password: 'lock-password' });
    assert.equal(await store.recordAuthFailure(acct.id), false);
    await store.recordAuthSuccess(acct.id);
    assert.equal((await store.get(acct.id)).authFailures, 0, 'a success resets the count');
    assert.deepEqual(await Promise.all([store.recordAuthFailure(acct.id), store.recordAuthFailure(acct.id)]), [false, false]);
    assert.equal(await store.recordAuthFailure(acct.id), true, 'the third failure suspends');
    assert.equal(await store.recordAuthFailure(acct.id), false, 'already suspended');
    await store.recordAuthSuccess(acct.id);
    const suspended = await store.get(acct.id);
    assert.equal(suspended.suspended, true);
    assert.equal(suspended.authFailures, 3, 'frozen at the suspension');
    assert.ok(suspended.suspendedAt);
    // Even an undecryptable record is refused as suspended: nothing is decrypted for a suspended account.
    await redis.hset(`pi:account:${acct.id}`, 'secret', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await assert.rejects(store.forConnection(acct.id), (e: unknown) => {
      assert.ok(e instanceof PushError);
      assert.equal(e.code, 99006);
      assert.equal(e.message, 'Run-as account "lockme" suspended after 3 failed logons: update its credentials.');
      return true;
    });
    const updated = await store.update(acct.id, { password: 'lock-password-2' });
    assert.equal(updated.suspended, false);
    assert.equal(updated.authFailures, 0);
    assert.equal((await store.forConnection(acct.id)).secrets.password, 'lock-password-2');
  });

  it('a missing account is 99017; delete is 409 while a job uses it', async () => {
    await assert.rejects(store.forConnection('00000000-0000-0000-0000-000000000000'), (e: unknown) => e instanceof PushError && e.code === 99017);
    const acct = await store.create({ name: 'busy', osFamily: 'linux', username: 'root', password: 'busy-password' });
    inUse.set(acct.id, ['job-1']);
    await assert.rejects(store.delete(acct.id), (e: unknown) => e instanceof ConflictError && !JSON.stringify(e).includes('busy-password'));
    inUse.delete(acct.id);
    await store.delete(acct.id);
    assert.equal(await store.find(acct.id), null);
  });

  it('Windows account forms; Linux-only and key-only fields refused', async () => {
    const forms: Array<[string, string | undefined, string, string]> = [
      ['CORP\\pushadmin', undefined, 'pushadmin', 'CORP'],
      ['pushadmin@corp.example.com', undefined, 'pushadmin', 'corp.example.com'],
      ['.\\Administrator', undefined, 'Administrator', '.'],
      ['Administrator', undefined, 'Administrator', '.'],
      ['pushadmin', 'CORP', 'pushadmin', 'CORP'],
    ];
    for (const [username, domain, user, dom] of forms) {
      const input: Parameters<AccountStore['create']>[0] = { name: `win ${username}`, osFamily: 'windows', username, password: 'Win-Secret-1' };
      if (domain !== undefined) input.domain = domain;
      const acct: RunAsAccount = await store.create(input);
      assert.equal(acct.username, user);
      assert.equal(acct.domain, dom);
      assert.ok(!JSON.stringify(acct).includes('Win-Secret-1'));
    }
    const refused: Array<[Parameters<AccountStore['create']>[0], string]> = [
      [{ name: 'w', osFamily: 'windows', username: 'CORP\\a', domain: 'CORP', password: 'x1234' }, 'domain'],
      [{ name: 'w', osFamily: 'windows', username: 'a', password: 'x1234', useSudo: true }, 'useSudo'],
      [{ name: 'w', osFamily: 'windows', username: 'a', password: 'x1234', passphrase: 'pp' }, 'passphrase'],
      [{ name: 'l', osFamily: 'linux', username: 'root', password: 'x1234', passphrase: 'pp' }, 'passphrase'],
      [{ name: 'w', osFamily: 'windows', username: 'a' }, 'password'],
    ];
    for (const [input, field] of refused) {
      await assert.rejects(store.create(input), (e: unknown) => e instanceof ValidationError && e.field === field && !e.message.includes('x1234'));
    }
  });

  it('during a rotation: seals under the file\'s current key and reads records under a key it has not loaded yet', async (t) => {
    const file = path.join(dir, 'vault.key');
    const { keyring } = VaultKeyring.open(file);
    const db1 = new Redis(`${lab.url}/1`); // only this test's records
    t.after(() => db1.disconnect());
    const daemonStore = new AccountStore(db1, () => keyring.keys(), { lockoutThreshold: 3, inUse: async () => [], reloadKeys: () => keyring.reload() });
    const acct = await daemonStore.create({ name: 'rot', osFamily: 'linux', username: 'root', password: 'rotation-password' });
    const old = keyring.keys()[0] as VaultKey;
    const fresh = vaultKeyFromBytes(randomBytes(32));
    writeVaultKeys(file, [fresh, old]);
    // A rotation (another process) re-encrypts the record before this store's periodic reload.
    const rotator = new AccountStore(db1, () => [fresh, old], { lockoutThreshold: 3, inUse: async () => [] });
    assert.equal(await reencryptAll(rotator, [fresh, old]), 1);
    assert.equal(keyring.keys()[0]?.id, old.id, 'not reloaded yet');
    assert.equal((await daemonStore.forConnection(acct.id)).secrets.password, 'rotation-password');
    // A write seals under the new key at once.
    writeVaultKeys(file, [old]);
    keyring.reload();
    writeVaultKeys(file, [fresh, old]);
    const written = await daemonStore.create({ name: 'rot2', osFamily: 'linux', username: 'root', password: 'rotation-password-2' });
    assert.equal(keyIdOf((await db1.hget(`pi:account:${written.id}`, 'secret')) as string), fresh.id);
    assert.deepEqual(await recordsNotUnder(rotator, fresh.id), []);
    assert.equal(await reencryptAll(rotator, [fresh, old]), 0, 'records already under the current key are left alone');
  });
});
