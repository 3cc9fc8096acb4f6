// Secret hygiene end to end: after account creation and after full push runs (successes and failures,
// with a password account, a private key with a passphrase, a wrong password, a wrong passphrase, an
// installer that prints secrets into its log, a refused registration), no secret appears, raw, base64,
// base64url, URL-encoded or JSON-escaped, in any Redis value, in the Redis append-only file, in the
// daemon's log, in any job log, or in any API response.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, dumpRedis, machineFor, push, type JobBody, type Lab, startLab } from './fixtures.ts';
import { assertNoSecrets, generateSshKey, jobLogs, readAof, recordApiResponses, secretForms } from './security-fixtures.ts';

describe('secret hygiene', () => {
  let lab: Lab;
  let redis: Redis;
  let responses: string[];
  let guests: { plain: LinuxGuest; keyed: LinuxGuest; leaky: LinuxGuest; refusing: LinuxGuest };
  const secrets: Record<string, string> = {};
  const accounts: Record<string, string> = {};
  const jobs: JobBody[] = [];
  const unique = (what: string) => `${what} ${randomBytes(6).toString('base64')}/+&="q" %41 ${randomBytes(6).toString('hex')}`;

  /** Every place a secret could end up, as text. */
  async function everywhere(): Promise<Record<string, string>> {
    // Read the jobs and accounts the way a portal or operator would, so those responses are scanned too.
    await lab.daemon.api('GET', '/api/v1/jobs?limit=100');
    await lab.daemon.api('GET', '/api/v1/jobs?limit=100', undefined, lab.daemon.tokens.operator);
    await lab.daemon.api('GET', '/api/v1/run-as-accounts', undefined, lab.daemon.tokens.operator);
    await lab.daemon.api('GET', '/api/v1/host-keys');
    for (const id of Object.values(accounts)) await lab.daemon.api('GET', `/api/v1/run-as-accounts/${id}`);
    for (const job of jobs) {
      await lab.daemon.api('GET', `/api/v1/jobs/${job.id}`);
      await lab.daemon.api('GET', `/api/v1/jobs/${job.id}/events`);
    }
    const places: Record<string, string> = {
      'Redis (every key)': await dumpRedis(redis),
      'Redis AOF': (await readAof(redis, lab.redis.dir)).text,
      'daemon log': lab.daemon.logs.join(''),
      ...(await jobLogs(lab.daemon, jobs.map((j) => j.id))),
    };
    responses.forEach((text, i) => { places[`API response ${i}: ${text.split('\n')[0]}`] = text; });
    return places;
  }

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    redis = new Redis(lab.redis.url);
    responses = recordApiResponses(lab.daemon);
    const passphrase = lab.daemon.passphrase;
    const [plain, keyed, refusing] = await Promise.all([
      createLinuxGuest({ name: 'hyg-plain', behaviour: { passphrase } }),
      createLinuxGuest({ name: 'hyg-key', behaviour: { passphrase } }),
      createLinuxGuest({ name: 'hyg-refuse', behaviour: { passphrase: 'the CS wants another passphrase' } }),
    ]);
    const root = (plain as LinuxGuest).users.root;
    secrets['root password'] = root.password;
    secrets['key passphrase'] = unique('Key-Passphrase');
    const key = await generateSshKey(secrets['key passphrase']);
    secrets['private key'] = key.privateKey;
    (keyed as LinuxGuest).authorizeKey(root.name, key.publicKey);
    secrets['wrong password'] = unique('Wrong-Password');
    secrets['wrong key passphrase'] = unique('Wrong-Key-Passphrase');
    secrets['windows password'] = unique('Windows-Password');
    secrets['windows password, updated'] = unique('Windows-Password-2');
    secrets['configuration server passphrase'] = passphrase;
    // An installer that writes secrets (raw and encoded) into its log, which the job attaches on failure.
    const keyLine = key.privateKey.split('\n').find((l) => l.length > 40) as string;
    const leaky = await createLinuxGuest({
      name: 'hyg-leaky',
      behaviour: {
        passphrase, installExit: 17,
        installMessage: `leak ${root.password} b64 ${Buffer.from(root.password).toString('base64')} key ${keyLine} cs ${encodeURIComponent(passphrase)}`,
      },
    });
    guests = { plain: plain as LinuxGuest, keyed: keyed as LinuxGuest, leaky, refusing: refusing as LinuxGuest };
  });
  after(async () => {
    redis?.disconnect();
    await Promise.all(Object.values(guests ?? {}).map((g) => g.destroy()));
    await lab?.stop();
  });

  it('the scan itself finds every form of a secret (so a clean scan means something)', () => {
    const s = 'Probe secret/+&="q"';
    for (const form of secretForms(s)) assert.throws(() => assertNoSecrets({ probe: `x${form}x` }, { probe: s }), /secret "probe"/);
    assert.throws(() => assertNoSecrets({ probe: secretForms(secrets['private key'] as string).at(-1) as string }, { key: secrets['private key'] as string }), /secret "key"/);
  });

  it('after creating accounts (Linux password, private key + passphrase, Windows forms, updates): no secret anywhere', async () => {
    const root = guests.plain.users.root;
    accounts.password = await createLinuxAccount(lab.daemon, root);
    const keyed = await lab.daemon.api<{ id: string; hasPrivateKey: boolean; hasPassword: boolean }>('POST', '/api/v1/run-as-accounts', {
      name: 'key account', osFamily: 'linux', username: root.name, privateKey: secrets['private key'], passphrase: secrets['key passphrase'],
    });
    assert.equal(keyed.status, 201, keyed.text);
    assert.deepEqual([keyed.body.hasPrivateKey, keyed.body.hasPassword], [true, false]);
    accounts.key = keyed.body.id;
    const wrongKey = await lab.daemon.api<{ id: string }>('POST', '/api/v1/run-as-accounts', {
      name: 'key, wrong passphrase', osFamily: 'linux', username: root.name, privateKey: secrets['private key'], passphrase: secrets['wrong key passphrase'],
    });
    accounts.wrongKey = wrongKey.body.id;
    accounts.wrongPassword = await createLinuxAccount(lab.daemon, { name: root.name, password: secrets['wrong password'] as string });
    for (const username of ['CORP\\pushadmin', 'pushadmin@corp.example.com', '.\\Administrator']) {
      const res = await lab.daemon.api<{ id: string }>('POST', '/api/v1/run-as-accounts', { name: `win ${username}`, osFamily: 'windows', username, password: secrets['windows password'] });
      assert.equal(res.status, 201, res.text);
      accounts[`win ${username}`] = res.body.id;
    }
    const upd = await lab.daemon.api('PUT', `/api/v1/run-as-accounts/${accounts['win CORP\\pushadmin']}`, { password: secrets['windows password, updated'] });
    assert.equal(upd.status, 200);
    // A bad request carrying a secret is refused without echoing it.
    const bad = await lab.daemon.api('POST', '/api/v1/run-as-accounts', { name: 'bad', osFamily: 'linux', username: 'bad user', password: secrets['wrong password'] });
    assert.equal(bad.status, 400);
    assertNoSecrets(await everywhere(), secrets);
  });

  it('after push runs that succeed and fail: no secret anywhere, and command output was redacted', async () => {
    const run = async (g: LinuxGuest, account: string, machineId: string) => {
      const job = await push(lab.daemon, machineFor(g, account as string, { machineId }));
      jobs.push(job);
      return job;
    };
    assert.equal((await run(guests.plain, accounts.password as string, 'hyg-1')).state, 'Succeeded');
    const byKey = await run(guests.keyed, accounts.key as string, 'hyg-2');
    assert.equal(byKey.state, 'Succeeded', JSON.stringify(byKey.errors));
    const wrongPassword = await run(guests.plain, accounts.wrongPassword as string, 'hyg-3');
    assert.equal(wrongPassword.errors[0]?.code, 95108);
    const wrongKey = await run(guests.keyed, accounts.wrongKey as string, 'hyg-4');
    assert.equal(wrongKey.errors[0]?.code, 95108);
    assert.match(String(wrongKey.errors[0]?.details?.reason), /private key cannot be used/);
    const leaky = await run(guests.leaky, accounts.password as string, 'hyg-5');
    assert.equal(leaky.errors[0]?.code, 99003);
    const tailText = String(leaky.errors[0]?.details?.installerLogTail);
    assert.match(tailText, /leak \*\*\* b64 \*\*\* key \*\*\* cs \*\*\*/, 'the installer log tail is attached, redacted');
    const refused = await run(guests.refusing, accounts.password as string, 'hyg-6');
    assert.equal(refused.errors[0]?.code, 99004);
    // The guest did receive the secrets where they belong (a sanity check of the scan's premise).
    assert.ok(guests.leaky.read('/var/log/ua_install.log').includes(secrets['root password'] as string));
    assertNoSecrets(await everywhere(), secrets);
  });

  it('the AOF holds the accounts (as ciphertext): the scan above did read the account writes', async () => {
    const aof = await readAof(redis, lab.redis.dir);
    assert.ok(aof.files.some((f) => f.endsWith('.incr.aof')), `AOF files: ${aof.files.join(', ')}`);
    const sealed = await redis.hget(`pi:account:${accounts.key}`, 'secret');
    assert.ok(sealed && aof.text.includes(sealed), 'the key account\'s ciphertext is in the AOF');
  });
});
