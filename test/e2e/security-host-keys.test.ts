// SSH host trust end to end: TOFU pins the key on the first push; a regenerated guest key fails the
// next push with 99005 showing both fingerprints and the command to accept; forgetting the pin or
// pinning the new key lets it through; strict (per request and globally) refuses an unknown host and
// accepts a pre-seeded fingerprint; off accepts anything and warns on every use.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, machineFor, push, task, type JobBody, type Lab, startLab } from './fixtures.ts';

interface Pin { kind: 'ssh' | 'tls'; address: string; port: number; fingerprint: string; keyType: string | null; source: string; firstSeen: string; lastSeen: string | null }

const INSTALLERS = [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }];

function hostKeyFailure(job: JobBody): JobBody['errors'][number] {
  assert.equal(job.state, 'Failed', JSON.stringify(job, null, 2));
  const err = job.errors[0] as JobBody['errors'][number];
  assert.equal(err.code, 99005, JSON.stringify(err));
  assert.equal(err.retryable, false);
  assert.equal(job.attempts, 1);
  assert.equal(task(job, 'CopyInstaller').state, 'Failed');
  return err;
}

describe('SSH host trust', () => {
  let lab: Lab;
  let guest: LinuxGuest;
  let unknown: LinuxGuest;
  let account: string;
  const id = (g: LinuxGuest) => `${g.address}:${g.port}`;
  const pins = async () => (await lab.daemon.api<{ hostKeys: Pin[] }>('GET', '/api/v1/host-keys', undefined, lab.daemon.tokens.operator)).body.hostKeys;
  const pinOf = async (g: LinuxGuest) => (await pins()).find((p) => p.kind === 'ssh' && `${p.address}:${p.port}` === id(g));
  let run = 0;
  const pushTo = (g: LinuxGuest, extra: Record<string, unknown> = {}) => push(lab.daemon, machineFor(g, account, { machineId: `vm-${g.name}-${++run}`, ...extra }));

  before(async () => {
    lab = await startLab({ installers: INSTALLERS });
    [guest, unknown] = await Promise.all([
      createLinuxGuest({ name: 'hk', behaviour: { passphrase: lab.daemon.passphrase } }),
      createLinuxGuest({ name: 'hkstrict', behaviour: { passphrase: lab.daemon.passphrase } }),
    ]);
    account = await createLinuxAccount(lab.daemon, guest.users.root);
  });
  after(async () => {
    await Promise.all([guest, unknown].map((g) => g?.destroy()));
    await lab?.stop();
  });

  it('tofu: the first push pins the guest\'s key', async () => {
    assert.equal(await pinOf(guest), undefined);
    const job = await pushTo(guest);
    assert.equal(job.state, 'Succeeded', JSON.stringify(job.errors));
    const pin = await pinOf(guest);
    assert.equal(pin?.fingerprint, guest.hostKeyFingerprint);
    assert.equal(pin?.source, 'first-use');
    assert.equal(pin?.keyType, 'ssh-ed25519');
    assert.ok(pin?.firstSeen && pin.lastSeen, 'first and last seen recorded');
    assert.match(await lab.daemon.client.jobLog(job.id), /pinned ssh-ed25519 host key SHA256:\S+ for .* \(trust on first use\)/);
    assert.equal((await pushTo(guest)).state, 'Succeeded', 'the same key again');
  });

  it('a changed host key fails with 99005 naming both fingerprints and the command to accept; forgetting the pin lets it through', async () => {
    const old = guest.hostKeyFingerprint;
    const fresh = await guest.regenerateHostKey();
    assert.notEqual(fresh, old);
    const err = hostKeyFailure(await pushTo(guest));
    assert.ok(err.message.includes(old) && err.message.includes(fresh), err.message);
    const accept = `npm run cli -- host-keys pin ${guest.address} ${fresh} --port ${guest.port}`;
    assert.ok(err.message.includes(accept), err.message);
    assert.equal(err.details?.pinned, old);
    assert.equal(err.details?.presented, fresh);
    assert.ok(String(err.details?.howToAccept).includes(accept));
    assert.ok(String(err.details?.howToAccept).includes(`DELETE /api/v1/host-keys/${encodeURIComponent(id(guest))}`));
    assert.equal((await pinOf(guest))?.fingerprint, old, 'the refused key did not replace the pin');
    const acct = await lab.daemon.api<{ authFailures: number }>('GET', `/api/v1/run-as-accounts/${account}`);
    assert.equal(acct.body.authFailures, 0, 'a refused host key is not a logon failure of the account (no password was sent)');

    // Forget the pin through the API (operators may not), then the next push pins the new key.
    assert.equal((await lab.daemon.api('DELETE', `/api/v1/host-keys/${encodeURIComponent(id(guest))}`, undefined, lab.daemon.tokens.operator)).status, 403);
    assert.equal((await lab.daemon.api('DELETE', `/api/v1/host-keys/${encodeURIComponent(id(guest))}`)).status, 204);
    assert.equal((await lab.daemon.api('DELETE', `/api/v1/host-keys/${encodeURIComponent(id(guest))}`)).status, 404);
    assert.equal((await pushTo(guest)).state, 'Succeeded');
    assert.equal((await pinOf(guest))?.fingerprint, fresh);
  });

  it('pinning the new key (the accept command\'s API) lets it through', async () => {
    const before = guest.hostKeyFingerprint;
    const fresh = await guest.regenerateHostKey();
    hostKeyFailure(await pushTo(guest));
    const res = await lab.daemon.api<Pin>('POST', '/api/v1/host-keys', { address: guest.address, port: guest.port, fingerprint: fresh });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.source, 'pre-seeded');
    assert.deepEqual([res.body.kind, res.body.address, res.body.port, res.body.lastSeen], ['ssh', guest.address, guest.port, null]);
    assert.notEqual(fresh, before);
    assert.equal((await pushTo(guest)).state, 'Succeeded');
    const pin = await pinOf(guest);
    assert.equal(pin?.fingerprint, fresh);
    assert.equal(pin?.keyType, 'ssh-ed25519', 'key type learned on first use of the pre-seeded pin');
  });

  it('strict per request: an unknown host is refused (nothing pinned); a pre-seeded SHA256 fingerprint is accepted, another is refused', async () => {
    const err = hostKeyFailure(await pushTo(unknown, { hostKeyPolicy: 'strict' }));
    assert.match(err.message, /not pre-seeded and the host key policy is strict/);
    assert.ok(err.message.includes(unknown.hostKeyFingerprint), err.message);
    assert.equal(await pinOf(unknown), undefined);
    // A wrong pre-seeded fingerprint is refused as a mismatch.
    const wrong = `SHA256:${'A'.repeat(43)}`;
    assert.equal((await lab.daemon.api('POST', '/api/v1/host-keys', { address: unknown.address, port: unknown.port, fingerprint: wrong })).status, 201);
    assert.match(hostKeyFailure(await pushTo(unknown, { hostKeyPolicy: 'strict' })).message, /changed: pinned SHA256:A{43}, presented/);
    // Bad fingerprints are refused with the field named.
    const bad = await lab.daemon.api<{ field: string }>('POST', '/api/v1/host-keys', { address: unknown.address, fingerprint: 'MD5:00:11' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'fingerprint');
    // The right one, as the hypervisor or an inventory would give it.
    assert.equal((await lab.daemon.api('POST', '/api/v1/host-keys', { address: unknown.address, port: unknown.port, fingerprint: unknown.hostKeyFingerprint })).status, 201);
    assert.equal((await pushTo(unknown, { hostKeyPolicy: 'strict' })).state, 'Succeeded');
  });

  it('off: a mismatching key is accepted, nothing is pinned, and every use warns (job log and daemon log)', async () => {
    const pinned = (await pinOf(guest))?.fingerprint;
    await guest.regenerateHostKey();
    const warningsBefore = lab.daemon.logs.filter((l) => /"level":40/.test(l) && l.includes('host key checking is off')).length;
    for (let i = 0; i < 2; i++) {
      const job = await pushTo(guest, { hostKeyPolicy: 'off' });
      assert.equal(job.state, 'Succeeded', JSON.stringify(job.errors));
      const log = await lab.daemon.client.jobLog(job.id);
      assert.match(log, new RegExp(`WARNING: host key checking is off for ${guest.address.replace(/\./g, '\\.')}:${guest.port}; accepted ssh-ed25519 key ${guest.hostKeyFingerprint.replace(/[+/]/g, '.')} without verification`));
    }
    const warnings = lab.daemon.logs.filter((l) => /"level":40/.test(l) && l.includes('host key checking is off'));
    assert.equal(warnings.length - warningsBefore, 2, 'one warn-level line per use');
    assert.equal((await pinOf(guest))?.fingerprint, pinned, 'off neither pins nor replaces a pin');
    hostKeyFailure(await pushTo(guest));
  });

  it('strict globally (SSH_HOST_KEY_POLICY=strict): an unknown host is refused, a pre-seeded one accepted', async (t) => {
    const strictLab = await startLab({ installers: INSTALLERS, env: { SSH_HOST_KEY_POLICY: 'strict' } });
    const g = await createLinuxGuest({ name: 'hkglobal', behaviour: { passphrase: strictLab.daemon.passphrase } });
    t.after(async () => { await g.destroy(); await strictLab.stop(); });
    const acct = await createLinuxAccount(strictLab.daemon, g.users.root);
    const err = hostKeyFailure(await push(strictLab.daemon, machineFor(g, acct, { machineId: 'vm-global-1' })));
    assert.match(err.message, /policy is strict/);
    assert.equal(err.details?.policy, 'strict');
    const seeded = await strictLab.daemon.api('POST', '/api/v1/host-keys', { address: g.address, port: g.port, fingerprint: g.hostKeyFingerprint });
    assert.equal(seeded.status, 201);
    const ok = await push(strictLab.daemon, machineFor(g, acct, { machineId: 'vm-global-2' }));
    assert.equal(ok.state, 'Succeeded', JSON.stringify(ok.errors));
    assert.match(await strictLab.daemon.client.jobLog(ok.id), /host key policy strict/);
  });
});
