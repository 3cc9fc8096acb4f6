// A Linux test guest: an OpenSSH sshd on its own loopback address whose sessions are chrooted into a
// busybox userland on a tmpfs (so `df` inside sees the guest's own size), with the release files of the
// OS it pretends to be. The test machine's own root account and /usr/local are never touched: logins
// use the lab's uid-0 alias, and everything the installer writes lands inside the chroot.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, chmodSync, symlinkSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { must, run } from './exec.ts';
import { installGuestOpenssl, type GuestOpenssl } from './guest-binaries.ts';
import { installGuestSudo } from './guest-sudo.ts';
import { ADDRESS_LOCKS, GUEST_NET, GUESTS_DIR } from './paths.ts';
import { ensureLabUsers, type LabUsers } from './users.ts';

export type GuestOs = 'ubuntu-20.04' | 'ubuntu-18.04' | 'centos-7' | 'rhel-8' | 'rhel-7' | 'oracle-7' | 'sles-12' | 'debian-9' | 'unknown' | 'none';

/** Release files per OS, as the real distributions ship them. */
export const RELEASE_FILES: Record<GuestOs, Record<string, string>> = {
  'ubuntu-20.04': {
    '/etc/os-release': 'NAME="Ubuntu"\nVERSION="20.04.6 LTS (Focal Fossa)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 20.04.6 LTS"\nVERSION_ID="20.04"\nVERSION_CODENAME=focal\n',
    '/etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION="Ubuntu 20.04.6 LTS"\n',
    '/etc/debian_version': 'bullseye/sid\n',
  },
  'ubuntu-18.04': {
    '/etc/os-release': 'NAME="Ubuntu"\nVERSION="18.04.6 LTS (Bionic Beaver)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\nVERSION_ID="18.04"\n',
    '/etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=18.04\nDISTRIB_CODENAME=bionic\nDISTRIB_DESCRIPTION="Ubuntu 18.04.6 LTS"\n',
  },
  'centos-7': {
    '/etc/os-release': 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
    '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)\n',
    '/etc/centos-release': 'CentOS Linux release 7.9.2009 (Core)\n',
  },
  'rhel-8': {
    '/etc/os-release': 'NAME="Red Hat Enterprise Linux"\nVERSION="8.8 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.8"\nPRETTY_NAME="Red Hat Enterprise Linux 8.8 (Ootpa)"\n',
    '/etc/redhat-release': 'Red Hat Enterprise Linux release 8.8 (Ootpa)\n',
  },
  'rhel-7': {
    '/etc/os-release': 'NAME="Red Hat Enterprise Linux Server"\nVERSION="7.9 (Maipo)"\nID="rhel"\nVERSION_ID="7.9"\nPRETTY_NAME="Red Hat Enterprise Linux Server 7.9 (Maipo)"\n',
    '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 7.9 (Maipo)\n',
  },
  'oracle-7': {
    '/etc/os-release': 'NAME="Oracle Linux Server"\nVERSION="7.9"\nID="ol"\nVERSION_ID="7.9"\nPRETTY_NAME="Oracle Linux Server 7.9"\n',
    '/etc/oracle-release': 'Oracle Linux Server release 7.9\n',
    '/etc/redhat-release': 'Red Hat Enterprise Linux Server release 7.9 (Maipo)\n',
  },
  'sles-12': {
    '/etc/os-release': 'NAME="SLES"\nVERSION="12-SP3"\nVERSION_ID="12.3"\nPRETTY_NAME="SUSE Linux Enterprise Server 12 SP3"\nID="sles"\n',
    '/etc/SuSE-release': 'SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n',
  },
  'debian-9': {
    '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 9 (stretch)"\nNAME="Debian GNU/Linux"\nVERSION_ID="9"\nVERSION="9 (stretch)"\nID=debian\n',
    '/etc/debian_version': '9.13\n',
  },
  unknown: {
    '/etc/os-release': 'NAME="Plan 9"\nID=plan9\nVERSION_ID="4"\nPRETTY_NAME="Plan 9 from Bell Labs"\n',
  },
  /** No release file at all: nothing to detect the OS from. */
  none: {},
};

/** What the test installer does on this guest (read by its scripts from /etc/pushinstall-test.conf). */
export interface GuestBehaviour {
  /** Exit code of ./install (0 = success). */
  installExit?: number;
  /** A line the failing installer writes to /var/log/ua_install.log. */
  installMessage?: string;
  /** Seconds ./install sleeps (for cancel/timeout tests). */
  installSleep?: number;
  /** The passphrase the "configuration server" accepts (its SHA-256 is stored, never the passphrase). */
  passphrase?: string;
  /** Exit code of UnifiedAgentConfigurator.sh when the passphrase is right. */
  registerExit?: number;
  /** The configurator exits 0 but records nothing (the daemon's verification must notice). */
  registerSilentlyFails?: boolean;
  /** The installed agent's VERSION= carries this build after the release (9.30.5407.1 for "5407.1"). */
  agentBuild?: string;
}

export interface LinuxGuestOptions {
  name?: string;
  os?: GuestOs;
  /** Size of the guest's root file system (tmpfs), MiB. Default 4096 (enough for every prerequisite). */
  sizeMiB?: number;
  /** What `uname -m` answers (via setarch: i686 or x86_64). Default x86_64. */
  arch?: string;
  /** GRUB kernel lines use /dev/sdX names (95320) instead of UUIDs. */
  grubDeviceNames?: boolean;
  behaviour?: GuestBehaviour;
  /** Disable the SFTP subsystem (95108). */
  noSftp?: boolean;
  /**
   * Install sudo inside the guest with pilab-sudo as a sudoer (needs the host's sudo package): `true`
   * password-less (NOPASSWD), `'password'` a sudoer that must type a password, `'true-only'`
   * password-less for `true` only.
   */
  sudo?: boolean | 'password' | 'true-only';
  /** Port to listen on; default 22 when free on the address, else a free port. */
  port?: number;
  /** `openssl` in the guest (the push verifies copies with `openssl dgst` where it exists, as on real distributions): see installGuestOpenssl. */
  openssl?: GuestOpenssl;
}

export interface LinuxGuest {
  name: string;
  address: string;
  port: number;
  root: string;
  users: LabUsers;
  hostKeyFingerprint: string;
  /** Path inside the guest → path on the test machine. */
  hostPath(p: string): string;
  exists(p: string): boolean;
  read(p: string): string;
  write(p: string, content: string | Buffer, mode?: number): void;
  setBehaviour(b: GuestBehaviour): void;
  /** Stop and start its sshd (e.g. to make a transient fault). */
  stopSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /** Replaces the host key (the host key mismatch case); returns the new fingerprint. */
  regenerateHostKey(): Promise<string>;
  /** Authorises a public key for a user (key authentication). */
  authorizeKey(user: string, publicKey: string): void;
  sshdLog(): string;
  destroy(): Promise<void>;
}

let counter = 0;

function claimAddress(): string {
  mkdirSync(ADDRESS_LOCKS, { recursive: true });
  for (let i = 0; i < 5000; i++) {
    const n = (process.pid * 7 + counter++ + i * 13) % 250 + 2;
    const block = (Math.floor(process.pid / 250) + i) % 250 + 1;
    const address = `${GUEST_NET}.${block}.${n}`;
    try { mkdirSync(path.join(ADDRESS_LOCKS, address)); return address; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('no free lab address');
}

function releaseAddress(address: string): void {
  rmSync(path.join(ADDRESS_LOCKS, address), { recursive: true, force: true });
}

function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

async function anyFreePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const GRUB_UUID = `menuentry 'Linux' {\n  linux16 /vmlinuz-5.4.0 root=UUID=2f6b1c2e-6d3a-4c1b-9b1e-0c8d2f1a7e55 ro crashkernel=auto quiet\n  initrd16 /initramfs-5.4.0.img\n}\n`;
const GRUB_DEVICES = `menuentry 'Linux' {\n  linux16 /vmlinuz-5.4.0 root=/dev/sda2 ro crashkernel=auto resume=/dev/sda3 quiet\n  initrd16 /initramfs-5.4.0.img\n}\n`;

function behaviourConf(b: GuestBehaviour): string {
  const lines = [
    `INSTALL_EXIT=${b.installExit ?? 0}`,
    `INSTALL_SLEEP=${b.installSleep ?? 0}`,
    `INSTALL_MESSAGE='${(b.installMessage ?? 'simulated installer failure').replace(/'/g, '')}'`,
    `REGISTER_EXIT=${b.registerExit ?? 0}`,
    `AGENT_BUILD='${(b.agentBuild ?? '').replace(/[^0-9.]/g, '')}'`,
    `REGISTER_SILENTLY_FAILS=${b.registerSilentlyFails ? 1 : 0}`,
    `REGISTER_PASSPHRASE_SHA256=${b.passphrase === undefined ? '' : createHash('sha256').update(b.passphrase).digest('hex')}`,
  ];
  return lines.join('\n') + '\n';
}

async function buildRoot(root: string, o: Required<Pick<LinuxGuestOptions, 'os' | 'sizeMiB' | 'arch' | 'grubDeviceNames'>>, users: LabUsers): Promise<void> {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  await must('mount', ['-t', 'tmpfs', '-o', `size=${o.sizeMiB}m,mode=0755`, 'pilab-guest', root]);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'etc', 'dev', 'proc', 'var/log', 'boot/grub2', 'root', 'home']) {
    mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
  }
  mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  chmodSync(path.join(root, 'tmp'), 0o1777);
  writeFileSync(path.join(root, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  // One symlink per applet, where a distribution would have the command.
  for (const applet of (await must('/bin/busybox', ['--list-full'])).split('\n').filter(Boolean)) {
    const target = path.join(root, applet);
    if (!existsSync(target)) { mkdirSync(path.dirname(target), { recursive: true }); symlinkSync('/bin/busybox', target); }
  }
  for (const [dev, major, minor] of [['null', 1, 3], ['zero', 1, 5], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]] as const) {
    await must('mknod', ['-m', '666', path.join(root, 'dev', dev), 'c', String(major), String(minor)]);
  }
  await must('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')]);
  writeFileSync(path.join(root, 'etc/passwd'), [
    'root:x:0:0:root:/root:/bin/sh',
    `${users.root.name}:x:0:0:lab root:/root:/bin/sh`,
    `${users.user.name}:x:${users.user.uid}:${users.user.uid}:lab user:/home:/bin/sh`,
    `${users.sudo.name}:x:${users.sudo.uid}:${users.sudo.uid}:lab sudoer:/home:/bin/sh`,
  ].join('\n') + '\n');
  writeFileSync(path.join(root, 'etc/group'), `root:x:0:\n${users.user.name}:x:${users.user.uid}:\n${users.sudo.name}:x:${users.sudo.uid}:\n`);
  writeFileSync(path.join(root, 'etc/hostname'), 'guest\n');
  writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1 localhost guest\n');
  for (const [file, content] of Object.entries(RELEASE_FILES[o.os])) writeFileSync(path.join(root, file), content);
  writeFileSync(path.join(root, 'boot/grub2/grub.cfg'), o.grubDeviceNames ? GRUB_DEVICES : GRUB_UUID);
}

/** Creates and starts a guest. Call destroy() when done (the runner also sweeps leftovers). */
export async function createLinuxGuest(options: LinuxGuestOptions = {}): Promise<LinuxGuest> {
  const users = await ensureLabUsers();
  const address = claimAddress();
  const name = `${options.name ?? 'guest'}-${address.replace(/\./g, '-')}`;
  const base = path.join(GUESTS_DIR, name);
  const root = path.join(base, 'root');
  const etc = path.join(base, 'sshd');
  const arch = options.arch ?? 'x86_64';
  let sshd: ChildProcess | null = null;
  let log = '';
  let destroyed = false;
  try {
    mkdirSync(GUESTS_DIR, { recursive: true, mode: 0o755 });
    mkdirSync(etc, { recursive: true, mode: 0o700 });
    await buildRoot(root, { os: options.os ?? 'ubuntu-20.04', sizeMiB: options.sizeMiB ?? 4096, arch: options.arch ?? 'x86_64', grubDeviceNames: options.grubDeviceNames ?? false }, users);
    writeFileSync(path.join(root, 'etc/pushinstall-test.conf'), behaviourConf(options.behaviour ?? {}));
    if (options.sudo) await installGuestSudo(root, users.sudo.name, options.sudo === true ? 'nopasswd' : options.sudo);
    if (options.openssl) await installGuestOpenssl(root, options.openssl);
    const keyFile = path.join(etc, 'ssh_host_ed25519_key');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    mkdirSync(path.join(etc, 'authorized_keys'), { mode: 0o755 });
    const port = options.port ?? ((await portFree(address, 22)) ? 22 : await anyFreePort(address));
    const config = [
      `ListenAddress ${address}`,
      `Port ${port}`,
      `HostKey ${keyFile}`,
      `PidFile ${path.join(etc, 'sshd.pid')}`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AuthorizedKeysFile ${path.join(etc, 'authorized_keys')}/%u`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin yes',
      `AllowUsers ${users.root.name} ${users.user.name} ${users.sudo.name}`,
      `ChrootDirectory ${root}`,
      options.noSftp ? '# no SFTP subsystem' : 'Subsystem sftp internal-sftp',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 200:30:400',
      'MaxSessions 100',
      'LogLevel INFO',
    ].join('\n') + '\n';
    writeFileSync(path.join(etc, 'sshd_config'), config, { mode: 0o600 });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

    const startSshd = async () => {
      const args = ['-D', '-e', '-f', path.join(etc, 'sshd_config')];
      // A 32-bit guest: sshd and its sessions run with the linux32 personality, so uname -m says i686.
      const child = arch === 'x86_64'
        ? spawn('/usr/sbin/sshd', args, { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('setarch', [arch, '/usr/sbin/sshd', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => { log += d.toString(); if (log.length > 1_000_000) log = log.slice(-500_000); });
      sshd = child;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`sshd for ${name} exited ${child.exitCode}: ${log}`);
        const up = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, address);
          s.once('data', () => { s.destroy(); resolve(true); });
          s.once('error', () => resolve(false));
          s.setTimeout(1000, () => { s.destroy(); resolve(false); });
        });
        if (up) return;
        await new Promise((r) => setTimeout(r, 30));
      }
      throw new Error(`sshd for ${name} did not come up: ${log}`);
    };
    const stopSshd = async () => {
      const child = sshd;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      sshd = null;
    };
    await startSshd();
    const fingerprint = async () => (await must('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).split(/\s+/)[1] as string;

    const guest: LinuxGuest = {
      name, address, port, root, users,
      hostKeyFingerprint: await fingerprint(),
      hostPath: (p) => path.join(root, p),
      exists: (p) => existsSync(path.join(root, p)),
      read: (p) => readFileSync(path.join(root, p), 'utf8'),
      write: (p, content, mode = 0o644) => { mkdirSync(path.dirname(path.join(root, p)), { recursive: true }); writeFileSync(path.join(root, p), content, { mode }); },
      setBehaviour: (b) => writeFileSync(path.join(root, 'etc/pushinstall-test.conf'), behaviourConf(b)),
      stopSshd,
      startSshd,
      async regenerateHostKey() {
        await stopSshd();
        rmSync(keyFile, { force: true });
        rmSync(`${keyFile}.pub`, { force: true });
        await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
        await startSshd();
        guest.hostKeyFingerprint = await fingerprint();
        return guest.hostKeyFingerprint;
      },
      authorizeKey(user, publicKey) { writeFileSync(path.join(etc, 'authorized_keys', user), publicKey.trim() + '\n', { mode: 0o644 }); },
      sshdLog: () => log,
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        await stopSshd();
        await teardownRoot(base);
        releaseAddress(address);
      },
    };
    return guest;
  } catch (e) {
    if (sshd) (sshd as ChildProcess).kill('SIGKILL');
    await teardownRoot(base).catch(() => undefined);
    releaseAddress(address);
    throw e;
  }
}

/**
 * Kills what still runs chrooted in a guest (an installer a test left sleeping, a session's orphans):
 * stopping sshd does not end them, and after the lazy unmount they would keep the guest's tmpfs alive.
 */
function killGuestProcesses(root: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const where = ((): string => { try { return readlinkSync(`/proc/${pid}/root`); } catch { return ''; } })();
    if (where !== root) continue;
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
}

/** Unmounts and removes a guest's directory (also used to sweep leftovers of a crashed run). */
export async function teardownRoot(base: string): Promise<void> {
  const root = path.join(base, 'root');
  killGuestProcesses(root);
  for (let i = 0; i < 20; i++) {
    await run('umount', ['-l', path.join(root, 'proc')]);
    const res = await run('umount', ['-l', root]);
    if (res.code === 0 || /not mounted|no mount point/i.test(res.stderr)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Only remove once nothing is mounted there, so rm can never reach into a mount.
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  if (!mounts.includes(` ${root} `) && !mounts.includes(` ${root}/`)) rmSync(base, { recursive: true, force: true });
}

/** Removes guests left by a run that crashed. */
export async function sweepGuests(): Promise<void> {
  if (!existsSync(GUESTS_DIR)) return;
  for (const name of readdirSync(GUESTS_DIR)) {
    const pid = path.join(GUESTS_DIR, name, 'sshd', 'sshd.pid');
    if (existsSync(pid)) await run('kill', [readFileSync(pid, 'utf8').trim()]);
    await teardownRoot(path.join(GUESTS_DIR, name));
  }
  rmSync(ADDRESS_LOCKS, { recursive: true, force: true });
}

