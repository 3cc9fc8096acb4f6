// The lockout guard end to end: three pushes with a bad password, across machines, suspend the run-as
// account; later jobs (and jobs already queued) fail fast with 99006 without logging on anywhere; an
// update of the account lifts the suspension and the next push succeeds. Evidence that a refused job
// never reached sshd comes from the guests' own sshd logs, read after a later logon on the same sshd
// (sshd logs in order, so an earlier attempt would be there already).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createLinuxAccount, enable, machineFor, push, task, until, waitForJob, type JobBody, type Lab, startLab } from './fixtures.ts';

interface AccountBody { authFailures: number; suspended: boolean; suspendedAt: string | null; name: string }

const SUSPENDED = /^Run-as account "[^"]+" suspended after 3 failed logons: update its credentials\.$/;
const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, 'g')) ?? []).length;
const failedLogons = (g: LinuxGuest) => count(g.sshdLog(), /Failed password for pilab-root /);
const acceptedLogons = (g: LinuxGuest) => count(g.sshdLog(), /Accepted password for pilab-root /);

describe('lockout guard', () => {
  let lab: Lab;
  let guests: LinuxGuest[];

  before(async () => {
    // One job at a time, so jobs submitted together really wait in the queue.
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }], env: { WORKER_CONCURRENCY: '1' } });
    guests = await Promise.all([1, 2, 3, 4].map((i) => createLinuxGuest({ name: `lock${i}`, behaviour: { passphrase: lab.daemon.passphrase } })));
  });
  after(async () => {
    await Promise.all((guests ?? []).map((g) => g.destroy()));
    await lab?.stop();
  });

  const account = async (id: string) => (await lab.daemon.api<AccountBody>('GET', `/api/v1/run-as-accounts/${id}`)).body;

  it('3 bad-password pushes across machines suspend the account; the 4th fails fast with 99006 and never reaches sshd; an update lifts it', async () => {
    const [g1, g2, g3, g4] = guests as [LinuxGuest, LinuxGuest, LinuxGuest, LinuxGuest];
    const id = await createLinuxAccount(lab.daemon, { name: g1.users.root.name, password: 'a-wrong-password' });
    for (const [i, g] of [g1, g2, g3].entries()) {
      const before = failedLogons(g);
      const job = await push(lab.daemon, machineFor(g, id));
      assert.equal(job.state, 'Failed');
      assert.equal(job.errors[0]?.code, 95108, JSON.stringify(job.errors));
      assert.match(String(job.errors[0]?.details?.reason), /authentication failed/);
      await until(`sshd of ${g.name} to log the failed logon`, async () => failedLogons(g) === before + 1);
      const acct = await account(id);
      assert.equal(acct.authFailures, i + 1);
      assert.equal(acct.suspended, i === 2, `suspended after failure ${i + 1}: ${acct.suspended}`);
    }
    const suspended = await account(id);
    assert.ok(suspended.suspendedAt);

    const logBefore = g4.sshdLog();
    const job = await push(lab.daemon, machineFor(g4, id));
    assert.equal(job.state, 'Failed');
    const err = job.errors[0] as JobBody['errors'][number];
    assert.equal(err.code, 99006);
    assert.match(err.message, SUSPENDED);
    assert.equal(err.retryable, false);
    assert.equal(job.attempts, 1);
    assert.match(err.recommendedAction, /Update the run-as account/);
    assert.equal(task(job, 'CopyInstaller').state, 'Failed');
    assert.equal((await account(id)).authFailures, 3, 'a refused job is no logon attempt');

    // PUT with the right password lifts the suspension; the next push logs on and succeeds.
    const updated = await lab.daemon.api<AccountBody>('PUT', `/api/v1/run-as-accounts/${id}`, { password: g4.users.root.password });
    assert.equal(updated.status, 200);
    assert.deepEqual([updated.body.suspended, updated.body.authFailures, updated.body.suspendedAt], [false, 0, null]);
    const ok = await push(lab.daemon, machineFor(g4, id));
    assert.equal(ok.state, 'Succeeded', JSON.stringify(ok.errors));
    await until('sshd of the 4th guest to log the successful logon', async () => acceptedLogons(g4) >= 1);
    // Everything sshd logged for the 4th guest since the suspended job came from the successful push.
    assert.equal(count(g4.sshdLog().slice(logBefore.length), /Failed password/), 0, 'the suspended job never tried to log on');
    assert.equal(count(logBefore, /pilab-root/), 0, 'no logon at all before the successful push');
  });

  it('queued jobs using an account that gets suspended fail fast without logging on', async () => {
    const id = await createLinuxAccount(lab.daemon, { name: (guests[0] as LinuxGuest).users.root.name, password: 'another-wrong-password' });
    const before = guests.map(failedLogons);
    const machines = [...guests.map((g) => machineFor(g, id, { machineId: `queued-${g.name}` })), machineFor(guests[0] as LinuxGuest, id, { machineId: 'queued-extra' })];
    const submitted = await enable(lab.daemon, machines);
    assert.equal(submitted.length, 5);
    const jobs = await Promise.all(submitted.map((j) => waitForJob<JobBody>(lab.daemon, j.id)));
    const codes = jobs.map((j) => j.errors[0]?.code);
    assert.deepEqual(codes, [95108, 95108, 95108, 99006, 99006], 'FIFO, one at a time: three logon failures, then fail fast');
    for (const j of jobs.slice(3)) assert.match(j.errors[0]?.message ?? '', SUSPENDED);
    assert.ok((await account(id)).suspended);
    // Prove on the sshds themselves: log on once more everywhere with a good account, then count.
    const good = await createLinuxAccount(lab.daemon, (guests[0] as LinuxGuest).users.root);
    const acceptedBefore = guests.map(acceptedLogons);
    await Promise.all(guests.map((g) => push(lab.daemon, machineFor(g, good, { machineId: `good-${g.name}` }))));
    for (const [i, g] of guests.entries()) await until(`a logon on ${g.name}`, async () => acceptedLogons(g) > (acceptedBefore[i] as number));
    const failedNow = guests.map(failedLogons).reduce((a, b) => a + b, 0);
    assert.equal(failedNow - before.reduce((a, b) => a + b, 0), 3, 'exactly three logon attempts reached sshd for five jobs');
  });
});
