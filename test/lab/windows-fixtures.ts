// Helpers for the Windows end-to-end tests: a lab whose repository holds Windows installer stand-ins,
// Windows run-as accounts, machine entries for the API, and the checks every Windows test repeats.
import assert from 'node:assert/strict';
import path from 'node:path';
import { startLab, waitForInstallers, type Lab } from '../e2e/fixtures.ts';
import type { TestDaemon } from './daemon.ts';
import { installerFileName } from './installers.ts';
import { createWindowsGuest, type WindowsGuest, type WindowsGuestOptions } from './windows-guest.ts';
import { buildWindowsInstaller } from './windows-installer.ts';
import type { SimulatedWindows } from './windows-machine.ts';
import type { MachineRequest } from '../../src/domain/job.ts';

/** A lab (Redis + daemon) whose repository offers the Windows installer of each version given. */
export async function startWindowsLab(versions: string[], opts: { env?: Record<string, string> } = {}): Promise<Lab> {
  const lab = await startLab(opts.env ? { env: opts.env } : {});
  for (const v of versions) buildWindowsInstaller(path.join(lab.repo, installerFileName(v, 'Windows')), v);
  await waitForInstallers(lab.daemon, versions.length);
  return lab;
}

export async function createWindowsAccount(d: TestDaemon, user: { username: string; password: string; domain?: string }): Promise<string> {
  const account = await d.client.createAccount({
    name: `win-${user.username}-${Math.random().toString(36).slice(2, 7)}`, osFamily: 'windows',
    username: user.username, password: user.password, domain: user.domain ?? '.',
  });
  return account.id;
}

/** Starts one simulated guest per spec (by name) with a local run-as account for each; stop() stops them all. */
export async function createWindowsGuests(d: TestDaemon, specs: Record<string, WindowsGuestOptions>): Promise<{
  guests: Record<string, WindowsGuest>; accounts: Record<string, string>; stop: () => Promise<void>;
}> {
  const guests: Record<string, WindowsGuest> = {};
  const accounts: Record<string, string> = {};
  await Promise.all(Object.entries(specs).map(async ([name, spec]) => {
    guests[name] = await createWindowsGuest({ name, ...spec });
    accounts[name] = await createWindowsAccount(d, (guests[name] as WindowsGuest).account);
  }));
  return { guests, accounts, stop: async () => { await Promise.all(Object.values(guests).map((g) => g.stop())); } };
}

/** The API's machine entry for a simulated guest (SMB and WinRM ports of the lab guest). */
export function windowsMachineFor(guest: WindowsGuest, accountId: string, extra: Partial<MachineRequest> = {}): MachineRequest {
  return {
    machineId: `vm-${guest.computerName.toLowerCase()}-${Math.random().toString(36).slice(2, 6)}`,
    address: guest.address,
    port: guest.winrmPort,
    smbPort: guest.smbPort,
    os: { family: 'windows', name: 'Microsoft Windows Server 2016 (64-bit)' },
    runAsAccountId: accountId,
    ...extra,
  };
}

/** The simulator refused no command line (our quoting never needed a second look). */
export function assertNoRefusals(machine: SimulatedWindows): void {
  assert.deepEqual(machine.refusals, [], 'the simulator refused command lines');
}

/** No command line carried the secret, and no file on C: holds it. */
export function assertSecretNotOnGuest(machine: SimulatedWindows, secret: string): void {
  for (const c of machine.commands) assert.ok(!c.commandLine.includes(secret), `a command line carried the secret: ${c.commandLine}`);
  for (const f of machine.drive.allFiles()) {
    assert.ok(!machine.drive.read(f).toString('latin1').includes(secret), `${f} holds the secret`);
  }
}

/** The staging folders of C:\Windows\Temp (pushinstall-<job id>). */
export function stagingFolders(machine: SimulatedWindows): string[] {
  return machine.drive.list('C:\\Windows\\Temp').filter((n) => n.startsWith('pushinstall-'));
}

/** No secret (in raw, base64 or URL-encoded form) in the daemon's logs, any Redis key, the jobs' logs or API bodies. */
export async function assertNoSecretsAnywhere(lab: Lab, secrets: string[], apiBodies: string[]): Promise<void> {
  const { Redis } = await import('ioredis');
  const { dumpRedis } = await import('../e2e/fixtures.ts');
  const redis = new Redis(lab.redis.url);
  try {
    const jobs = await lab.daemon.api<{ jobs: Array<{ id: string }> }>('GET', '/api/v1/jobs?limit=1000');
    const jobLogs: string[] = [];
    for (const j of jobs.body.jobs) jobLogs.push(await lab.daemon.client.jobLog(j.id));
    const accounts = await lab.daemon.api('GET', '/api/v1/run-as-accounts');
    const haystacks: Record<string, string> = {
      logs: lab.daemon.logs.join(''),
      redis: await dumpRedis(redis),
      api: [...apiBodies, jobs.text, accounts.text, ...jobLogs].join('\n'),
    };
    assert.ok((haystacks.logs ?? '').length > 1000 && (haystacks.redis ?? '').length > 1000, 'there is something to scan');
    for (const secret of secrets) {
      const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
      for (const [where, text] of Object.entries(haystacks)) {
        for (const f of forms) assert.ok(!text.includes(f), `a secret (form ${forms.indexOf(f)}) appears in ${where}`);
      }
    }
  } finally {
    redis.disconnect();
  }
}
