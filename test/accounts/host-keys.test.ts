// Host trust against a real Redis. SSH host keys: TOFU pins the first key, a different key is refused
// with both fingerprints and the command to accept it, strict takes pre-seeded pins only, off accepts
// anything and warns each time, and a pin replaced by an operator is never overwritten by a stale one.
// WinRM certificates: the same store (99024, fingerprints in any form, the same compare-and-set), and
// operators list, pre-seed and forget pins of both kinds.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { HostKeyStore } from '../../src/accounts/host-keys.ts';
import type { PinStore } from '../../src/accounts/pin-store.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { ValidationError } from '../../src/errors/validation-error.ts';
import { useLabRedis } from './lab-redis.ts';

const fp = () => `SHA256:${createHash('sha256').update(randomBytes(32)).digest('base64').replace(/=+$/, '')}`;

const certFp = () => createHash('sha256').update(randomBytes(32)).digest('hex').toUpperCase().match(/../g)?.join(':') as string;

function pushError(e: unknown, code: number): PushError {
  assert.ok(e instanceof PushError, String(e));
  assert.equal(e.code, code);
  return e;
}
const hostKeyError = (e: unknown) => pushError(e, 99005);
const certificateError = (e: unknown) => pushError(e, 99024);

const lab = useLabRedis();

/**
 * Runs `verify` while an operator replaces the pin between the verifier's read and its lastSeen write
 * (the read of `field` in hash `key` triggers `replace`).
 */
async function raceWithOperator(key: string, field: string, replace: () => Promise<unknown>, verify: () => Promise<void>): Promise<void> {
  const redis = lab.redis;
  const raw = await redis.hget(key, field);
  const originalHget = redis.hget.bind(redis);
  (redis as unknown as { hget: unknown }).hget = async (k: string, f: string) => {
    const value = await originalHget(k, f);
    if (k === key && f === field && value === raw) await replace();
    return value;
  };
  try {
    await verify();
  } finally {
    (redis as unknown as { hget: unknown }).hget = originalHget;
  }
}

describe('SSH host keys (PinStore ssh)', () => {
  let store: PinStore;
  const warnings: Array<{ fields: unknown; message: string }> = [];
  const lines: string[] = [];
  const log = (l: string) => { lines.push(l); };

  before(() => {
    store = new HostKeyStore(lab.redis, { warn: ((fields: unknown, message: string) => { warnings.push({ fields, message }); }) as never }).ssh;
  });

  it('tofu: pins the first key, accepts it again, refuses another with both fingerprints and how to accept', async () => {
    const first = fp();
    await store.verifier('10.0.0.5', 22, 'tofu', log)(first, 'ssh-ed25519');
    const pin = await store.get('10.0.0.5', 22);
    assert.equal(pin?.fingerprint, first);
    assert.equal(pin?.source, 'first-use');
    assert.equal(pin?.keyType, 'ssh-ed25519');
    await store.verifier('10.0.0.5', 22, 'tofu', log)(first, 'ssh-ed25519');
    const second = fp();
    await assert.rejects(store.verifier('10.0.0.5', 22, 'tofu', log)(second, 'ssh-ed25519'), (e: unknown) => {
      const err = hostKeyError(e);
      assert.ok(err.message.includes(first) && err.message.includes(second), err.message);
      assert.ok(err.message.includes(`npm run cli -- host-keys pin 10.0.0.5 ${second} --port 22`), err.message);
      assert.equal(err.details.pinned, first);
      assert.equal(err.details.presented, second);
      assert.match(String(err.details.howToAccept), /DELETE \/api\/v1\/host-keys\/10\.0\.0\.5%3A22/);
      return true;
    });
    assert.equal((await store.get('10.0.0.5', 22))?.fingerprint, first, 'a refused key is not pinned');
    // Pins are per address and port.
    await store.verifier('10.0.0.5', 2222, 'tofu', log)(second, 'ssh-ed25519');
    assert.equal((await store.get('10.0.0.5', 2222))?.fingerprint, second);
  });

  it('two first connections racing with different keys: exactly one is pinned', async () => {
    const [a, b] = [fp(), fp()];
    const results = await Promise.allSettled([
      store.verifier('10.0.0.6', 22, 'tofu', log)(a, 'ssh-ed25519'),
      store.verifier('10.0.0.6', 22, 'tofu', log)(b, 'ssh-ed25519'),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const winner = results[0]?.status === 'fulfilled' ? a : b;
    assert.equal((await store.get('10.0.0.6', 22))?.fingerprint, winner);
  });

  it('strict: refuses an unknown host (and pins nothing), accepts a pre-seeded fingerprint, refuses another', async () => {
    const key = fp();
    await assert.rejects(store.verifier('10.0.0.7', 22, 'strict', log)(key, 'ssh-ed25519'), (e: unknown) => {
      const err = hostKeyError(e);
      assert.match(err.message, /not pre-seeded and the host key policy is strict/);
      assert.ok(err.message.includes(`npm run cli -- host-keys pin 10.0.0.7 ${key} --port 22`));
      return true;
    });
    assert.equal(await store.get('10.0.0.7', 22), null);
    const pin = await store.pin('10.0.0.7', 22, key);
    assert.equal(pin.source, 'pre-seeded');
    await store.verifier('10.0.0.7', 22, 'strict', log)(key, 'ssh-ed25519');
    await assert.rejects(store.verifier('10.0.0.7', 22, 'strict', log)(fp(), 'ssh-ed25519'), (e: unknown) => /changed: pinned/.test(hostKeyError(e).message));
    await assert.rejects(store.pin('10.0.0.7', 22, 'MD5:aa:bb'), ValidationError);
    await assert.rejects(store.pin('10.0.0.7', 22, 'SHA256:short'), ValidationError);
  });

  it('off: accepts any key, pins nothing, warns in the job log and at warn level every time', async () => {
    const before = warnings.length;
    await store.pin('10.0.0.8', 22, fp());
    for (let i = 0; i < 2; i++) await store.verifier('10.0.0.8', 22, 'off', log)(fp(), 'ssh-ed25519');
    assert.equal(warnings.length - before, 2);
    assert.match(warnings.at(-1)?.message ?? '', /WARNING: host key checking is off for 10\.0\.0\.8:22/);
    assert.equal(lines.filter((l) => /WARNING: host key checking is off for 10\.0\.0\.8:22/.test(l)).length, 2);
  });

  it('forget removes a pin; a stale pin is never written back over a newer one', async () => {
    const old = fp();
    await store.pin('10.0.0.9', 22, old);
    // The pin has no keyType yet, so a verification records it (compare-and-set on the pin it read).
    const replaced = fp();
    await raceWithOperator('pi:host-keys', '10.0.0.9:22', () => store.pin('10.0.0.9', 22, replaced),
      () => store.verifier('10.0.0.9', 22, 'tofu', log)(old, 'ssh-ed25519'));
    assert.equal((await store.get('10.0.0.9', 22))?.fingerprint, replaced, 'the operator\'s pin survives');
    assert.equal(await store.forget('10.0.0.9', 22), true);
    assert.equal(await store.forget('10.0.0.9', 22), false);
    assert.equal(await store.get('10.0.0.9', 22), null);
  });
});

describe('WinRM certificates (PinStore tls) and both kinds together (HostKeyStore)', () => {
  let trust: HostKeyStore;
  const warnings: string[] = [];
  const lines: string[] = [];
  const log = (l: string) => { lines.push(l); };
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  before(() => {
    trust = new HostKeyStore(lab.redis, { warn: ((_fields: unknown, message: string) => { warnings.push(message); }) as never });
  });

  it('tofu: pins the first certificate (the PEM argument is not a key type), refuses another with 99024 and how to forget it', async () => {
    const first = certFp();
    await trust.tls.verifier('10.0.1.5', 5986, 'tofu', log)(first, PEM);
    const pin = await trust.tls.get('10.0.1.5', 5986);
    assert.deepEqual({ ...pin, firstSeen: undefined, lastSeen: undefined }, {
      kind: 'tls', address: '10.0.1.5', port: 5986, fingerprint: first, keyType: null, source: 'first-use', firstSeen: undefined, lastSeen: undefined,
    });
    assert.ok(lines.includes(`pinned WinRM certificate ${first} for 10.0.1.5:5986 (trust on first use)`));
    // The same certificate in another spelling is the same pin.
    await trust.tls.verifier('10.0.1.5', 5986, 'tofu', log)(`sha256:${first.replace(/:/g, '').toLowerCase()}`, PEM);
    const second = certFp();
    await assert.rejects(trust.tls.verifier('10.0.1.5', 5986, 'tofu', log)(second, PEM), (e: unknown) => {
      const err = certificateError(e);
      assert.equal(err.message, `The WinRM certificate of 10.0.1.5:5986 changed: pinned ${first}, presented ${second}.`);
      assert.equal(err.details.pinned, first);
      assert.equal(err.details.presented, second);
      assert.match(String(err.details.howToForget), /DELETE \/api\/v1\/host-keys\/10\.0\.1\.5%3A5986 \(npm run cli -- host-keys forget 10\.0\.1\.5 --port 5986\)/);
      return true;
    });
    assert.equal((await trust.tls.get('10.0.1.5', 5986))?.fingerprint, first, 'a refused certificate is not pinned');
    assert.equal(await trust.ssh.get('10.0.1.5', 5986), null, 'the kinds are kept apart');
  });

  it('strict: refuses an unknown certificate (99024, nothing pinned); off accepts anything and warns', async () => {
    await assert.rejects(trust.tls.verifier('10.0.1.6', 5986, 'strict', log)(certFp(), PEM), (e: unknown) => /not pre-seeded and the policy is strict/.test(certificateError(e).message));
    assert.equal(await trust.tls.get('10.0.1.6', 5986), null);
    const before = warnings.length;
    await trust.tls.verifier('10.0.1.6', 5986, 'off', log)(certFp(), PEM);
    assert.match(warnings.at(-1) ?? '', /^WARNING: certificate checking is off for 10\.0\.1\.6:5986; accepted WinRM certificate [0-9A-F:]{95} without verification$/);
    assert.equal(warnings.length - before, 1);
    assert.equal(await trust.tls.get('10.0.1.6', 5986), null);
  });

  it('a stale certificate pin is never written back over a newer one (compare-and-set on lastSeen)', async () => {
    const old = certFp();
    await trust.pin({ kind: 'tls', address: '10.0.1.9', port: 5986, fingerprint: old });
    const replaced = certFp();
    await raceWithOperator('pi:tls-pins', '10.0.1.9:5986', () => trust.tls.pin('10.0.1.9', 5986, replaced),
      () => trust.tls.verifier('10.0.1.9', 5986, 'tofu', log)(old, PEM));
    assert.equal((await trust.tls.get('10.0.1.9', 5986))?.fingerprint, replaced, 'the operator\'s pin survives');
    // Unraced, the first use of a pre-seeded pin records when it was seen.
    await trust.tls.verifier('10.0.1.9', 5986, 'tofu', log)(replaced, PEM);
    assert.ok((await trust.tls.get('10.0.1.9', 5986))?.lastSeen);
  });

  it('pre-seeding validates the fingerprint of each kind; defaults the port per kind', async () => {
    const hex = createHash('sha256').update('cert').digest('hex');
    const pin = await trust.pin({ kind: 'tls', address: 'WIN01.corp.example', fingerprint: hex });
    assert.equal(pin.fingerprint, hex.toUpperCase().match(/../g)?.join(':'));
    assert.equal(pin.port, 5986);
    assert.equal(pin.address, 'win01.corp.example');
    assert.equal(pin.source, 'pre-seeded');
    assert.equal(pin.lastSeen, null);
    assert.equal((await trust.pin({ kind: 'ssh', address: 'win01.corp.example', fingerprint: fp() })).port, 22);
    for (const [req, field] of [
      [{ kind: 'tls', address: 'a', fingerprint: 'SHA256:short' }, 'fingerprint'],
      [{ kind: 'tls', address: 'a', fingerprint: fp() }, 'fingerprint'],
      [{ kind: 'ssh', address: 'a', fingerprint: certFp() }, 'fingerprint'],
      [{ kind: 'tls', address: 'a', fingerprint: certFp(), keyType: 'ssh-ed25519' }, 'keyType'],
    ] as const) {
      await assert.rejects(trust.pin(req), (e: unknown) => e instanceof ValidationError && e.field === field);
    }
  });

  it('lists both kinds; forgetting an address:port removes both, and says when there was nothing', async () => {
    await trust.pin({ kind: 'ssh', address: '10.0.1.20', port: 5986, fingerprint: fp(), keyType: 'ssh-ed25519' });
    await trust.pin({ kind: 'tls', address: '10.0.1.20', port: 5986, fingerprint: certFp() });
    const listed = (await trust.list()).filter((p) => p.address === '10.0.1.20');
    assert.deepEqual(listed.map((p) => [p.kind, p.port, p.keyType]), [['ssh', 5986, 'ssh-ed25519'], ['tls', 5986, null]]);
    assert.deepEqual(Object.keys(listed[0] ?? {}).sort(), ['address', 'fingerprint', 'firstSeen', 'keyType', 'kind', 'lastSeen', 'port', 'source']);
    assert.equal(await trust.forget('10.0.1.20', 5986), true);
    assert.deepEqual((await trust.list()).filter((p) => p.address === '10.0.1.20'), []);
    assert.equal(await trust.forget('10.0.1.20', 5986), false);
  });
});
