// The vault key agreement over a real Redis: the first process claims the active id; a process without
// it (or without a key a stored account is sealed under) disagrees with a reason naming the file, the
// expected id and how to copy the key; a deployment from before agreement is judged by its accounts; a
// record naming a key that was never active (tampered) does not make anyone disagree.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ACTIVE_KEY_ID, checkKeyAgreement, KeyAgreementMonitor, setActiveKeyId, type KeyAgreement } from '../../src/accounts/key-agreement.ts';
import { vaultKeyFromBytes } from '../../src/accounts/vault-key.ts';
import { useLabRedis } from './lab-redis.ts';

const key = () => vaultKeyFromBytes(randomBytes(32));
const FILE = '/etc/pushinstalld/vault.key';

describe('vault key agreement', () => {
  const lab = useLabRedis();
  const check = (keys: ReturnType<typeof key>[], sealed: string[] = []) =>
    checkKeyAgreement(lab.redis, { keys: () => keys, sealedUnder: async () => new Set(sealed), file: FILE });

  it('the first process claims the active id; another key disagrees with a reason that says how to copy the key', async () => {
    await lab.redis.flushall();
    const a = key();
    const b = key();
    assert.deepEqual(await check([a]), { agreed: true, activeKeyId: a.id });
    assert.equal(await lab.redis.get(ACTIVE_KEY_ID), a.id);
    const other = await check([b]);
    assert.equal(other.agreed, false);
    assert.equal(other.agreed ? '' : other.reason,
      `VAULT_KEY_FILE ${FILE} holds vault key ${b.id} but this cluster's active key is ${a.id}: copy the key file from a host whose daemon runs (e.g. scp <that-host>:${FILE} ${FILE} && chmod 600 ${FILE})`);
    assert.equal((await check([b, a])).agreed, true, 'a key file in the middle of a rotation holds both');
  });

  it('a rotation makes the new id active: a process holding only the old key disagrees until it holds the new one', async () => {
    await lab.redis.flushall();
    const old = key();
    const fresh = key();
    await check([old], [old.id]);
    await setActiveKeyId(lab.redis, fresh.id);
    const stale = await check([old], [old.id]);
    assert.deepEqual(stale.agreed ? null : [stale.activeKeyId, stale.missing], [fresh.id, [fresh.id]]);
    // Only the new key, while some records are still under the old one (the rotation is re-encrypting).
    const mid = await check([fresh], [old.id, fresh.id]);
    assert.equal(mid.agreed, false);
    assert.match(mid.agreed ? '' : mid.reason, new RegExp(`stored accounts also use ${old.id}`));
    assert.equal((await check([fresh], [fresh.id])).agreed, true);
  });

  it('before any agreement was recorded, the stored accounts tell which key is right; a never-active id (tampered) is ignored', async () => {
    await lab.redis.flushall();
    const a = key();
    const b = key();
    const refused = await check([b], [a.id]);
    assert.deepEqual([refused.agreed, refused.activeKeyId, refused.agreed ? [] : refused.missing], [false, null, [a.id]]);
    assert.equal(await lab.redis.get(ACTIVE_KEY_ID), null, 'a process with the wrong key claims nothing');
    assert.deepEqual(await check([a], [a.id]), { agreed: true, activeKeyId: a.id });
    assert.deepEqual(await check([a], [a.id, 'deadbeefdeadbeef']), { agreed: true, activeKeyId: a.id });
  });

  it('the monitor tells its listeners when the agreement changes, once', async () => {
    let state: KeyAgreement = { agreed: true, activeKeyId: 'a' };
    const seen: boolean[] = [];
    const monitor = new KeyAgreementMonitor(state, async () => state);
    monitor.onChange((s) => seen.push(s.agreed));
    await monitor.checkNow();
    state = { agreed: false, activeKeyId: 'b', missing: ['b'], reason: 'r' };
    await monitor.checkNow();
    await monitor.checkNow();
    state = { agreed: true, activeKeyId: 'b' };
    await monitor.checkNow();
    assert.deepEqual(seen, [false, true]);
    assert.equal(monitor.current().agreed, true);
  });
});
