// The operator CLI as an operator runs it (bin/pushinstalld.js, a child process) against a daemon
// pushing to lab guests: accounts from stdin (never echoed), enable from a CSV (one guest fails → exit 1
// and a line per change), a Windows VSS Warning from a JSON inventory (→ 3), a bad row (→ 2, nothing
// submitted), --json that parses, and Ctrl-C that leaves the jobs running (→ 130).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { buildWindowsInstaller } from '../lab/windows-installer.ts';
import { installerFileName } from '../lab/installers.ts';
import { startLab, until, waitForInstallers, type Lab } from './fixtures.ts';

const BIN = path.resolve('bin/pushinstalld.js');

interface Run { code: number | null; out: string; err: string }

describe('operator CLI against lab guests', () => {
  let lab: Lab;
  let dir: string;
  const linux: Record<string, LinuxGuest> = {};
  let win: WindowsGuest;

  /** Runs the CLI; `onOut` sees stdout as it grows (e.g. to interrupt it at a point). */
  const cli = (args: string[], o: { stdin?: string; env?: Record<string, string>; onOut?: (out: string, kill: () => void) => void } = {}) => new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PUSHINSTALLD_URL: lab.daemon.url, PUSHINSTALLD_TOKEN: lab.daemon.tokens.admin, DATA_DIR: lab.daemon.dataDir, ...o.env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); o.onOut?.(out, () => child.kill('SIGINT')); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdin.end(o.stdin ?? '');
    child.on('exit', (code) => resolve({ code, out, err }));
  });
  const file = (name: string, text: string) => { writeFileSync(path.join(dir, name), text); return name; };
  const row = (id: string, g: LinuxGuest) => `${id},${g.address},linux,${g.port}`;

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    buildWindowsInstaller(path.join(lab.repo, installerFileName('9.30.0.0', 'Windows')), '9.30.0.0');
    await waitForInstallers(lab.daemon, 2);
    dir = mkdtempSync(path.join(tmpdir(), 'pi-cli-e2e-'));
    const passphrase = lab.daemon.passphrase;
    [linux.ok, linux.grub, linux.slow, win] = await Promise.all([
      createLinuxGuest({ name: 'cli-ok', behaviour: { passphrase } }),
      createLinuxGuest({ name: 'cli-grub', grubDeviceNames: true, behaviour: { passphrase } }),
      createLinuxGuest({ name: 'cli-slow', behaviour: { passphrase, installSleep: 600 } }),
      createWindowsGuest({ name: 'clivss', windowsVersion: '2016', behaviour: { passphrase, installExit: 511 } }),
    ]);
  });

  after(async () => {
    await Promise.all([...Object.values(linux).map((g) => g.destroy()), win?.stop()]);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accounts add reads the password from stdin and never prints it; accounts list --json parses', async () => {
    const root = (linux.ok as LinuxGuest).users.root;
    const added = await cli(['accounts', 'add', '--name', 'lab-root', '--os-family', 'linux', '--username', root.name, '--password-stdin'], { stdin: `${root.password}\n` });
    assert.equal(added.code, 0, added.err);
    assert.match(added.out, /^added account lab-root \(\S+\)\n$/);
    const winAdded = await cli(['accounts', 'add', '--name', 'lab-admin', '--os-family', 'windows', '--domain', '.', '--username', win.account.username, '--password-stdin'], { stdin: win.account.password });
    assert.equal(winAdded.code, 0, winAdded.err);
    const refused = await cli(['accounts', 'add', '--name', 'x', '--os-family', 'linux', '--username', 'u']);
    assert.equal(refused.code, 2, 'no terminal and no --password-stdin: a usage error');
    const list = await cli(['accounts', 'list', '--json']);
    const table = await cli(['accounts', 'list']);
    assert.deepEqual((JSON.parse(list.out) as { accounts: Array<{ name: string }> }).accounts.map((a) => a.name).sort(), ['lab-admin', 'lab-root']);
    for (const r of [added, winAdded, refused, list, table]) {
      for (const secret of [root.password, win.account.password]) assert.ok(!r.out.includes(secret) && !r.err.includes(secret), 'a password never appears in the output');
    }
  });

  it('enable from a CSV: a bad row is reported with its line and nothing is submitted (exit 2)', async () => {
    const before = (await lab.daemon.client.listJobs()).jobs.length;
    const bad = await cli(['enable', '--inventory', file('bad.csv', `machineId,address,osFamily,port\n${row('vm-ok', linux.ok as LinuxGuest)}\nvm-bad,10.0.0.9,linux,ssh\n`), '--account', 'lab-root']);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /line 3 port: "ssh" is not a port number/);
    assert.match(bad.err, /nothing submitted/);
    assert.equal((await lab.daemon.client.listJobs()).jobs.length, before, 'no job created');
  });

  it('enable from a CSV on two Linux guests, one failing: a line per change, the summary, exit 1', async () => {
    const csv = file('machines.csv', `machineId,address,osFamily,port\n${row('vm-ok', linux.ok as LinuxGuest)}\n"vm-grub",${(linux.grub as LinuxGuest).address},"linux",${(linux.grub as LinuxGuest).port}\n`);
    const res = await cli(['enable', '--inventory', csv, '--account', 'lab-root']);
    assert.equal(res.code, 1, res.err + res.out);
    assert.match(res.out, /^\+\d+:\d\d {2}vm-ok {2}job NotStarted$/m);
    assert.match(res.out, /^\+\d+:\d\d {2}vm-ok {2}CopyInstaller InProgress$/m);
    assert.match(res.out, /^\+\d+:\d\d {2}vm-ok {2}job Succeeded$/m);
    assert.match(res.out, /^\+\d+:\d\d {2}vm-grub {2}job Failed {2}error 95320$/m);
    assert.match(res.out, /\] 2\/2 final · Succeeded 1 · Failed 1 · \d+:\d\d\n$/);
  });

  it('a Windows VSS failure on 9.30 from a JSON inventory: Warning, exit 3', async () => {
    const json = file('win.json', JSON.stringify([{ machineId: 'vm-vss', address: win.address, port: win.winrmPort, smbPort: win.smbPort, os: { family: 'windows', name: 'Microsoft Windows Server 2016 (64-bit)' } }]));
    const res = await cli(['enable', '--inventory', json, '--account', 'lab-admin']);
    assert.equal(res.code, 3, res.err + res.out);
    assert.match(res.out, /^\+\d+:\d\d {2}vm-vss {2}job Warning {2}error 99015$/m);
  });

  it('read commands with --json print JSON that parses; without, readable text', async () => {
    for (const args of [['jobs', 'list'], ['repository', 'list'], ['repository', 'os-support'], ['process-servers', 'list'], ['host-keys', 'list'], ['tokens', 'list']]) {
      const json = await cli([...args, '--json']);
      assert.equal(json.code, 0, `${args.join(' ')}: ${json.err}`);
      assert.doesNotThrow(() => JSON.parse(json.out), `${args.join(' ')} --json`);
      const text = await cli(args);
      assert.equal(text.code, 0, text.err);
      assert.throws(() => JSON.parse(text.out), `${args.join(' ')} is a table`);
    }
    const id = (JSON.parse((await cli(['jobs', 'list', '--json', '--state', 'Warning'])).out) as { jobs: Array<{ id: string }> }).jobs[0]?.id as string;
    assert.equal((JSON.parse((await cli(['jobs', 'get', id, '--json'])).out) as { state: string }).state, 'Warning');
    assert.match((await cli(['jobs', 'get', id])).out, /error 99015: [\s\S]*action: /);
    const env = { PUSHINSTALLD_URL: 'http://127.0.0.1:9', PUSHINSTALLD_TOKEN: 'not-a-token' };
    const overridden = await cli(['--url', lab.daemon.url, '--token', lab.daemon.tokens.operator, 'jobs', 'get', id, '--json'], { env });
    assert.equal(overridden.code, 0, `--url and --token win over the environment: ${overridden.err}`);
    const denied = await cli(['--url', lab.daemon.url, 'jobs', 'get', id], { env });
    assert.equal(denied.code, 1);
    assert.match(denied.err, /^pushinstalld: GET \/api\/v1\/jobs\/\S+: 401 /);
    assert.ok(!denied.err.includes('not-a-token'), 'the token is not echoed');
  });

  it('Ctrl-C during the progress view: the job keeps running, the CLI says how to watch it again, exit 130', async () => {
    const csv = file('slow.csv', `machineId,address,osFamily,port\n${row('vm-slow', linux.slow as LinuxGuest)}\n`);
    let sent = false;
    const res = await cli(['enable', '--inventory', csv, '--account', 'lab-root'], {
      onOut: (out, kill) => { if (!sent && /vm-slow {2}InstallMobilityService InProgress/.test(out)) { sent = true; kill(); } },
    });
    assert.equal(res.code, 130, res.err + res.out);
    const id = /pushinstalld jobs watch (\S+)/.exec(res.err)?.[1] as string;
    assert.ok(id, res.err);
    assert.equal((await lab.daemon.client.getJob(id)).state, 'InProgress', 'the job keeps running');
    await lab.daemon.client.cancelJob(id);
    await until('the slow job to be cancelled', async () => (await lab.daemon.client.getJob(id)).state === 'Cancelled', 60_000);
  });
});
