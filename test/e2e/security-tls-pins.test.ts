// WinRM HTTPS certificate pins through /api/v1/host-keys, end to end: the first push pins the guest's
// certificate (listed with kind tls); a renewed certificate fails the next push with 99024, whose
// details and recommended action name the route to forget the pin; forgetting it (admin only) lets the
// next push pin the new certificate; a pre-seeded tls pin satisfies the strict policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { assertNoRefusals, createWindowsAccount, startWindowsLab, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { push, type JobBody, type Lab } from './fixtures.ts';

interface Pin { kind: 'ssh' | 'tls'; address: string; port: number; fingerprint: string; keyType: string | null; source: string; firstSeen: string; lastSeen: string | null }

describe('WinRM certificate pins (host-keys kind tls)', () => {
  let lab: Lab;
  let guest: WindowsGuest;
  let account: string;
  const hostPath = () => `/api/v1/host-keys/${encodeURIComponent(`${guest.address}:${guest.winrmPort}`)}`;
  const pins = async () => (await lab.daemon.api<{ hostKeys: Pin[] }>('GET', '/api/v1/host-keys', undefined, lab.daemon.tokens.operator)).body.hostKeys;
  const pinOf = async () => (await pins()).filter((p) => p.address === guest.address && p.port === guest.winrmPort);
  const pushHttps = (extra: Record<string, unknown> = {}): Promise<JobBody> =>
    push(lab.daemon, windowsMachineFor(guest, account, { windowsTransport: 'winrm-https', os: { family: 'windows', tag: 'Windows' }, ...extra }));

  before(async () => {
    lab = await startWindowsLab(['9.30.0.0']);
    guest = await createWindowsGuest({ name: 'tlspin', windowsVersion: '2019', https: true, behaviour: { passphrase: lab.daemon.passphrase } });
    account = await createWindowsAccount(lab.daemon, guest.account);
  });
  after(async () => {
    await guest?.stop();
    await lab?.stop();
  });

  it('the first push pins the certificate, listed with kind tls', async () => {
    assert.deepEqual(await pinOf(), []);
    const job = await pushHttps();
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    const [pin, ...others] = await pinOf();
    assert.equal(others.length, 0);
    assert.deepEqual({ ...pin, firstSeen: typeof pin?.firstSeen, lastSeen: typeof pin?.lastSeen }, {
      kind: 'tls', address: guest.address, port: guest.winrmPort, fingerprint: guest.certificateFingerprint, keyType: null,
      source: 'first-use', firstSeen: 'string', lastSeen: 'string',
    });
  });

  it('a renewed certificate is refused (99024) naming the route; forgetting the pin lets the next push pin the new one', async () => {
    const old = guest.certificateFingerprint;
    const fresh = await guest.renewCertificate();
    const refused = await pushHttps();
    assert.equal(refused.state, 'Failed', JSON.stringify(refused, null, 2));
    const err = refused.errors[0] as JobBody['errors'][number];
    assert.equal(err.code, 99024);
    assert.equal(err.details?.pinned, old);
    assert.equal(err.details?.presented, fresh);
    assert.ok(String(err.details?.howToForget).includes(`DELETE ${hostPath()}`), String(err.details?.howToForget));
    assert.match(err.recommendedAction, /DELETE \/api\/v1\/host-keys\/<address>:<port>/);
    assert.equal((await pinOf())[0]?.fingerprint, old, 'the refused certificate did not replace the pin');

    assert.equal((await lab.daemon.api('DELETE', hostPath(), undefined, lab.daemon.tokens.operator)).status, 403);
    assert.equal((await lab.daemon.api('DELETE', hostPath())).status, 204);
    assert.deepEqual(await pinOf(), []);
    assert.equal((await lab.daemon.api('DELETE', hostPath())).status, 404);

    const job = await pushHttps();
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.ok((await lab.daemon.api('GET', `/api/v1/jobs/${job.id}/log`)).text.includes(`pinned WinRM certificate ${fresh}`));
    assert.deepEqual((await pinOf()).map((p) => [p.kind, p.fingerprint, p.source]), [['tls', fresh, 'first-use']]);
    assertNoRefusals(guest.machine);
  });

  it('pre-seeding a tls pin (fingerprint format checked) satisfies the strict policy', async () => {
    const fresh = await guest.renewCertificate();
    const bad = await lab.daemon.api<{ field: string }>('POST', '/api/v1/host-keys', { kind: 'tls', address: guest.address, port: guest.winrmPort, fingerprint: 'SHA256:not-a-certificate' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'fingerprint');
    const seeded = await lab.daemon.api<Pin>('POST', '/api/v1/host-keys', { kind: 'tls', address: guest.address, port: guest.winrmPort, fingerprint: fresh.replace(/:/g, '').toLowerCase() });
    assert.equal(seeded.status, 201, seeded.text);
    assert.deepEqual([seeded.body.kind, seeded.body.fingerprint, seeded.body.source, seeded.body.lastSeen], ['tls', fresh, 'pre-seeded', null]);
    const job = await pushHttps({ hostKeyPolicy: 'strict' });
    assert.equal(job.state, 'Succeeded', JSON.stringify(job, null, 2));
    assert.ok((await pinOf())[0]?.lastSeen, 'the pre-seeded pin was seen');
  });
});
