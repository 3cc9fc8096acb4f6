// The run-as account vault end to end: the key file (0600, refused when others may read it), only
// ciphertext in Redis, decrypted for the connection only (reads never decrypt), tampered or moved
// records refused before any logon, key rotation while the daemon keeps creating, updating and pushing,
// and an API that never returns a secret (create, list, get, update, delete 409).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { keyIdOf, open } from '../../src/accounts/cipher.ts';
import { rotateVaultKey } from '../../src/accounts/rotate-key.ts';
import { readVaultKeys } from '../../src/accounts/vault-key.ts';
import { startTestDaemon } from '../lab/daemon.ts';
import { run } from '../lab/exec.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, enable, machineFor, push, until, waitForJob, type JobBody, type Lab, startLab } from './fixtures.ts';
import { assertNoSecrets, generateSshKey, recordApiResponses } from './security-fixtures.ts';

describe('run-as account vault', () => {
  let lab: Lab;
  let redis: Redis;
  let guest: LinuxGuest;
  let slow: LinuxGuest;
  let keyFile: string;
  let rootAccount: string;
  /** account id → its secrets as sealed (JSON). */
  const expected = new Map<string, Record<string, string>>();
  let seq = 0;
  const pushTo = (g: LinuxGuest, account: string) => push(lab.daemon, machineFor(g, account, { machineId: `vm-vault-${++seq}` }));
  const sealedOf = async (id: string) => (await redis.hget(`pi:account:${id}`, 'secret')) as string;

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    redis = new Redis(lab.redis.url);
    [guest, slow] = await Promise.all([
      createLinuxGuest({ name: 'vault', behaviour: { passphrase: lab.daemon.passphrase } }),
      createLinuxGuest({ name: 'vaultslow', behaviour: { passphrase: lab.daemon.passphrase, installSleep: 3 } }),
    ]);
    keyFile = path.join(lab.daemon.dataDir, 'vault.key');
    rootAccount = await createLinuxAccount(lab.daemon, guest.users.root);
    expected.set(rootAccount, { password: guest.users.root.password });
  });
  after(async () => {
    redis?.disconnect();
    await Promise.all([guest, slow].map((g) => g?.destroy()));
    await lab?.stop();
  });

  it('the key file is created 0600 on first start with one key; Redis holds only its ciphertext', async () => {
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const keys = readVaultKeys(keyFile);
    assert.equal(keys.length, 1);
    assert.ok(lab.daemon.logs.some((l) => l.includes('created a new vault key (mode 0600)')));
    const stored = await redis.hgetall(`pi:account:${rootAccount}`);
    assert.deepEqual(Object.keys(stored).sort(), ['meta', 'secret']);
    assert.ok(!(stored.meta as string).includes(guest.users.root.password));
    assert.equal(keyIdOf(stored.secret as string), keys[0]?.id);
    assert.deepEqual(JSON.parse(open(keys, rootAccount, stored.secret as string).toString()), { password: guest.users.root.password });
  });

  it('a daemon refuses a VAULT_KEY_FILE that group or others may read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pi-vault-e2e-'));
    try {
      const file = path.join(dir, 'shared.key');
      writeFileSync(path.join(dir, 'cs.passphrase'), 'unused\n', { mode: 0o600 });
      writeFileSync(file, randomBytes(32).toString('base64') + '\n');
      for (const mode of [0o640, 0o604]) {
        chmodSync(file, mode);
        await assert.rejects(
          startTestDaemon({ redisUrl: lab.redis.url, dataDir: dir, env: { VAULT_KEY_FILE: file, ROLES: 'api', PORT: '0' } }),
          new RegExp(`VAULT_KEY_FILE ${file.replace(/[.]/g, '\\.')} is readable by group or others \\(mode 0${mode.toString(8)}\\); run chmod 600`),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads never decrypt; a tampered or moved record fails its job before any logon; an update with the secret repairs it', async () => {
    const victim = await createLinuxAccount(lab.daemon, guest.users.root);
    const other = await createLinuxAccount(lab.daemon, guest.users.root);
    const good = await sealedOf(victim);
    const flipped = Buffer.from(good, 'base64');
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0x01;
    for (const [what, sealed] of [['tampered', flipped.toString('base64')], ['moved from another account', await sealedOf(other)]] as const) {
      await redis.hset(`pi:account:${victim}`, 'secret', sealed);
      assert.equal((await lab.daemon.api('GET', `/api/v1/run-as-accounts/${victim}`)).status, 200, `${what}: get does not decrypt`);
      assert.equal((await lab.daemon.api('GET', '/api/v1/run-as-accounts')).status, 200, `${what}: list does not decrypt`);
      const logBefore = guest.sshdLog().length;
      const job = await pushTo(guest, victim);
      assert.equal(job.state, 'Failed', what);
      const err = job.errors[0] as JobBody['errors'][number];
      assert.equal(err.code, 99025, JSON.stringify(err));
      assert.match(JSON.stringify(err.details), /its secret failed authentication \(tampered or wrong key\)/, what);
      assert.match(err.message, /cannot be decrypted .*: update the account's credentials\.$/, what);
      // A later logon on the same sshd proves the failed job never logged on (sshd logs in order).
      const probe = await pushTo(guest, rootAccount);
      assert.equal(probe.state, 'Succeeded');
      await until('the probe logon in the sshd log', async () => /Accepted password/.test(guest.sshdLog().slice(logBefore)));
      assert.equal((guest.sshdLog().slice(logBefore).match(/Accepted password|Failed password/g) ?? []).length, 1, `${what}: only the probe logged on`);
    }
    const keep = await lab.daemon.api<{ field: string; message: string }>('PUT', `/api/v1/run-as-accounts/${victim}`, { name: 'renamed' });
    assert.equal(keep.status, 400);
    assert.equal(keep.body.field, 'password');
    assert.match(keep.body.message, /cannot be decrypted/);
    assert.equal((await lab.daemon.api('PUT', `/api/v1/run-as-accounts/${victim}`, { password: guest.users.root.password })).status, 200);
    assert.equal((await pushTo(guest, victim)).state, 'Succeeded');
    expected.set(victim, { password: guest.users.root.password });
    expected.set(other, { password: guest.users.root.password });
  });

  it('rotates the key while the daemon creates, updates and pushes; everything decrypts under the new key and the old key is gone', async () => {
    const oldKeys = readVaultKeys(keyFile);
    const root = guest.users.root;
    const lines: string[] = [];
    const rotation = rotateVaultKey(redis, keyFile, (l) => lines.push(l));
    let rotating = true;
    void rotation.then(() => { rotating = false; }, () => { rotating = false; });
    const pushing = pushTo(guest, rootAccount);
    const created: string[] = [];
    for (let i = 0; rotating || i < 3; i++) {
      const password = root.password;
      const id = await createLinuxAccount(lab.daemon, root);
      expected.set(id, { password });
      created.push(id);
      const target = created[Math.floor(created.length / 2)] as string;
      const res = await lab.daemon.api('PUT', `/api/v1/run-as-accounts/${target}`, { name: `updated ${i}` });
      assert.equal(res.status, 200, res.text);
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await rotation;
    assert.equal((await pushing).state, 'Succeeded', 'a push during the rotation');
    assert.ok(created.length >= 3);

    const keys = readVaultKeys(keyFile);
    assert.deepEqual(keys.map((k) => k.id), [result.newKeyId], lines.join('\n'));
    assert.ok(!oldKeys.some((k) => k.id === result.newKeyId));
    assert.ok(!readFileSync(keyFile, 'utf8').includes(oldKeys[0]?.key.toString('base64') as string), 'the old key is gone from the file');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    for (const [id, secrets] of expected) {
      const sealed = await sealedOf(id);
      assert.equal(keyIdOf(sealed), result.newKeyId, `account ${id} under the new key`);
      assert.deepEqual(JSON.parse(open(keys, id, sealed).toString()), secrets);
      assert.throws(() => open(oldKeys, id, sealed), /does not hold/);
    }
    // The daemon keeps working: an account created during the rotation pushes, and new accounts seal under the new key.
    assert.equal((await pushTo(guest, created.at(-1) as string)).state, 'Succeeded');
    const after = await createLinuxAccount(lab.daemon, root);
    expected.set(after, { password: root.password });
    assert.equal(keyIdOf(await sealedOf(after)), result.newKeyId);
    assert.equal(lab.daemon.logs.filter((l) => /vault key file/.test(l)).length, 0, 'the daemon never failed to read the key file');
  });

  it('the CLI command (npm run cli -- vault rotate-key) rotates the key of a running daemon in another process', async () => {
    const before = readVaultKeys(keyFile)[0]?.id;
    const res = await run('npm', ['run', '-s', 'cli', '--', 'vault', 'rotate-key'], {
      env: { ...process.env, REDIS_URL: lab.redis.url, VAULT_KEY_FILE: keyFile, DATA_DIR: lab.daemon.dataDir },
    });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { newKeyId: string; reencrypted: number };
    assert.notEqual(out.newKeyId, before);
    assert.equal(out.reencrypted, expected.size, 'every account');
    assert.match(res.stderr, /old keys removed/);
    assert.deepEqual(readVaultKeys(keyFile).map((k) => k.id), [out.newKeyId]);
    assert.equal((await pushTo(guest, rootAccount)).state, 'Succeeded');
  });

  it('the account API never returns a secret: create (Linux, key, Windows forms), list, get, update, delete 409 while a job uses it', async () => {
    const responses = recordApiResponses(lab.daemon);
    const secret = `Api-Secret ${randomBytes(8).toString('base64')}/+&="q"`;
    const ids: string[] = [];
    const create = async (body: Record<string, unknown>) => {
      const res = await lab.daemon.api<{ id: string; hasPassword: boolean }>('POST', '/api/v1/run-as-accounts', body);
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id);
      return res.body;
    };
    await create({ name: 'linux', osFamily: 'linux', username: 'root', password: secret, useSudo: true });
    const key = await generateSshKey(secret);
    await create({ name: 'linux key', osFamily: 'linux', username: 'root', privateKey: key.privateKey, passphrase: secret });
    for (const username of ['CORP\\pushadmin', 'pushadmin@corp.example.com', '.\\Administrator', 'Administrator']) {
      await create({ name: `win ${username}`, osFamily: 'windows', username, password: secret });
    }
    await create({ name: 'win domain field', osFamily: 'windows', username: 'pushadmin', domain: 'CORP', password: secret });
    await lab.daemon.api('GET', '/api/v1/run-as-accounts');
    await lab.daemon.api('GET', '/api/v1/run-as-accounts', undefined, lab.daemon.tokens.operator);
    for (const id of ids) {
      await lab.daemon.api('GET', `/api/v1/run-as-accounts/${id}`);
      assert.equal((await lab.daemon.api('PUT', `/api/v1/run-as-accounts/${id}`, { password: `${secret}-2` })).status, 200);
    }
    // 409 while a job uses the account, 204 once it ended.
    const busy = await createLinuxAccount(lab.daemon, slow.users.root);
    const [job] = await enable(lab.daemon, [machineFor(slow, busy, { machineId: 'vm-vault-busy' })]);
    const jobId = (job as { id: string }).id;
    await until('the job to run', async () => (await lab.daemon.client.getJob(jobId)).state === 'InProgress');
    const conflict = await lab.daemon.api<{ message: string; details: { jobIds: string[] } }>('DELETE', `/api/v1/run-as-accounts/${busy}`);
    assert.equal(conflict.status, 409, conflict.text);
    assert.deepEqual(conflict.body.details.jobIds, [jobId]);
    assert.equal((await waitForJob<JobBody>(lab.daemon, jobId)).state, 'Succeeded');
    assert.equal((await lab.daemon.api('DELETE', `/api/v1/run-as-accounts/${busy}`)).status, 204);
    for (const id of ids) assert.equal((await lab.daemon.api('DELETE', `/api/v1/run-as-accounts/${id}`)).status, 204);

    const places = Object.fromEntries(responses.map((t, i) => [`response ${i}: ${t.split('\n')[0]}`, t]));
    assertNoSecrets(places, { secret, updated: `${secret}-2`, 'root password': slow.users.root.password, 'private key': key.privateKey });
    for (const [where, text] of Object.entries(places)) assert.ok(!/"(password|privateKey|passphrase)"/.test(text), `a secret field in ${where}`);
  });
});
