// A simulated Windows guest reached over OpenSSH (windowsTransport "ssh"): a real sshd on its own
// loopback address whose sessions are chrooted into a folder holding the guest's C: drive (`/C:/...`, the
// path form Win32-OpenSSH's SFTP server uses) and a login "shell" (windows-shell/cmd-shim.mjs, run by a
// hard-linked node) that hands each command line to the same simulator as the WinRM guests, in the test
// process, over a Unix socket. Logins use the lab's unprivileged test user (pilab-user), so the test
// machine's root account and /usr/local are never touched; SFTP writes stay inside the chroot and the
// simulated commands inside C: (windows-fs.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { must } from './exec.ts';
import { ADDRESS_LOCKS, GUEST_NET, GUESTS_DIR } from './paths.ts';
import { ensureLabUsers } from './users.ts';
import { WindowsDrive } from './windows-fs.ts';
import { SimulatedWindows, type WindowsBehaviour, type WindowsVersion } from './windows-machine.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface WindowsSshGuestOptions {
  name?: string;
  windowsVersion?: WindowsVersion;
  behaviour?: WindowsBehaviour;
}

export interface WindowsSshGuest {
  name: string;
  address: string;
  port: number;
  account: { username: string; password: string };
  machine: SimulatedWindows;
  drive: WindowsDrive;
  hostKeyFingerprint: string;
  sshdLog(): string;
  stop(): Promise<void>;
}

let counter = 0;

/** A loopback address of the lab's block, locked the same way as the Linux guests' (no two guests share one). */
function claimAddress(): string {
  mkdirSync(ADDRESS_LOCKS, { recursive: true });
  for (let i = 0; i < 5000; i++) {
    const n = (process.pid * 11 + counter++ + i * 17) % 250 + 2;
    const block = (Math.floor(process.pid / 250) + i + 125) % 250 + 1;
    const address = `${GUEST_NET}.${block}.${n}`;
    try { mkdirSync(path.join(ADDRESS_LOCKS, address)); return address; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('no free lab address');
}

/** Puts a host file at the same path inside the chroot: a hard link when possible (read-only for the session user). */
function placeFile(root: string, file: string): void {
  const target = path.join(root, file);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  if (existsSync(target)) return;
  try { linkSync(realpathSync(file), target); } catch { copyFileSync(realpathSync(file), target); chmodSync(target, 0o755); }
}

/** node and the shared libraries it needs (from ldd), so the shim can run inside the chroot. */
async function placeNode(root: string): Promise<void> {
  placeFile(root, process.execPath);
  const ldd = await must('ldd', [process.execPath]);
  for (const m of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) placeFile(root, m[1] as string);
}

/** Frames for the shim: type (1 stdout, 2 stderr, 3 exit code), length, payload. */
function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The chroot the sessions run in: node and the shim as /bin/sh, a few devices, and the C: folder (owned by the login user). */
async function prepareChroot(root: string, uid: number): Promise<string> {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  await placeNode(root);
  for (const d of ['bin', 'dev', 'run', 'tmp']) mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
  for (const [dev, minor] of [['null', 3], ['zero', 5], ['urandom', 9]] as const) await must('mknod', ['-m', '666', path.join(root, 'dev', dev), 'c', '1', String(minor)]);
  copyFileSync(path.join(HERE, 'windows-shell', 'cmd-shim.mjs'), path.join(root, 'bin', 'sh'));
  chmodSync(path.join(root, 'bin', 'sh'), 0o755);
  const cRoot = path.join(root, 'C:');
  mkdirSync(cRoot, { mode: 0o755 });
  chownSync(cRoot, uid, uid);
  return cRoot;
}

/** The simulator end of the shim's socket: one JSON header line per connection, framed output back. */
async function serveSimulator(socketPath: string, machine: SimulatedWindows): Promise<net.Server> {
  const server = net.createServer((sock) => {
    let header = '';
    const onData = (d: Buffer): void => {
      header += d.toString();
      const nl = header.indexOf('\n');
      if (nl < 0) return;
      sock.off('data', onData);
      const req = JSON.parse(header.slice(0, nl)) as { command: string; user: string };
      void machine.execute(req.command, { username: req.user }).then((r) => {
        sock.end(Buffer.concat([frame(1, r.stdout), frame(2, r.stderr), frame(3, String(r.exitCode))]));
      }, (e: unknown) => sock.end(Buffer.concat([frame(2, `simulator error: ${(e as Error).message}\r\n`), frame(3, '1')])));
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socketPath, resolve); });
  chmodSync(socketPath, 0o666);
  return server;
}

interface Sshd { child: ChildProcess; log(): string }

/** sshd on `address`:`port`, password logins of `user` only, chrooted into `root`; resolves once it greets. */
async function startSshd(etc: string, root: string, address: string, port: number, user: string, name: string, keyFile: string, started: (s: Sshd) => void): Promise<Sshd> {
  writeFileSync(path.join(etc, 'sshd_config'), [
    `ListenAddress ${address}`, `Port ${port}`, `HostKey ${keyFile}`, `PidFile ${path.join(etc, 'sshd.pid')}`,
    'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication no', 'UsePAM no',
    `AllowUsers ${user}`, `ChrootDirectory ${root}`, 'Subsystem sftp internal-sftp',
    'StrictModes no', 'UseDNS no', 'PrintMotd no', 'PrintLastLog no', 'MaxStartups 100:30:200', 'LogLevel INFO',
  ].join('\n') + '\n', { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let log = '';
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(etc, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); if (log.length > 200_000) log = log.slice(-100_000); });
  const sshd = { child, log: () => log };
  started(sshd);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd for ${name} exited ${child.exitCode}: ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, address);
      s.once('data', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return sshd;
    if (Date.now() > deadline) throw new Error(`sshd for ${name} did not come up: ${log}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

export async function createWindowsSshGuest(o: WindowsSshGuestOptions = {}): Promise<WindowsSshGuest> {
  const users = await ensureLabUsers();
  const address = claimAddress();
  const name = `${o.name ?? 'winssh'}-${address.replace(/\./g, '-')}`;
  const base = path.join(GUESTS_DIR, name);
  const root = path.join(base, 'root');
  const etc = path.join(base, 'sshd');
  let sshd: Sshd | null = null;
  let server: net.Server | null = null;
  try {
    mkdirSync(GUESTS_DIR, { recursive: true, mode: 0o755 });
    mkdirSync(etc, { recursive: true, mode: 0o700 });
    const cRoot = await prepareChroot(root, users.user.uid);
    const drive = new WindowsDrive(cRoot, { uid: users.user.uid, gid: users.user.uid });
    const machine = new SimulatedWindows(drive, { computerName: `WIN-${address.split('.').slice(2).join('')}`, windowsVersion: o.windowsVersion ?? '2019', behaviour: o.behaviour ?? {} });
    server = await serveSimulator(path.join(root, 'run', 'winsim.sock'), machine);
    const keyFile = path.join(etc, 'ssh_host_ed25519_key');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const port = 22;
    const { child, log } = await startSshd(etc, root, address, port, users.user.name, name, keyFile, (s) => { sshd = s; });
    const fingerprint = (await must('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).split(/\s+/)[1] as string;
    const simulator = server;
    let stopped = false;
    return {
      name, address, port, machine, drive,
      account: { username: users.user.name, password: users.user.password },
      hostKeyFingerprint: fingerprint,
      sshdLog: log,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        await new Promise<void>((r) => simulator.close(() => r()));
        rmSync(base, { recursive: true, force: true });
        rmSync(path.join(ADDRESS_LOCKS, address), { recursive: true, force: true });
      },
    };
  } catch (e) {
    (sshd as Sshd | null)?.child.kill('SIGKILL');
    (server as net.Server | null)?.close();
    rmSync(base, { recursive: true, force: true });
    rmSync(path.join(ADDRESS_LOCKS, address), { recursive: true, force: true });
    throw e;
  }
}
