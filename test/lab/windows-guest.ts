// A simulated Windows guest reached over SMB and WinRM: a folder that is its C: drive, exported by a
// private smbd as C$ (the Samba user is the guest's Windows account), and the lab's WinRM server
// (winrm-server.ts) whose commands run in the guest simulator (windows-machine.ts) on that folder.
// Free space of the share comes from Samba's `dfree command`, so a test can give a guest little room.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSamba, type SambaServer } from './samba.ts';
import { WindowsDrive } from './windows-fs.ts';
import { SimulatedWindows, type WindowsBehaviour, type WindowsVersion } from './windows-machine.ts';
import { startWinrmServer, type WinrmServer, type WinrmServerStats } from './winrm-server.ts';

const execFileP = promisify(execFile);

export interface WindowsGuestOptions {
  name?: string;
  windowsVersion?: WindowsVersion;
  arch?: 'AMD64' | 'x86';
  behaviour?: WindowsBehaviour;
  /** WinRM over HTTPS (5986-style) with a fresh self-signed certificate, instead of HTTP. */
  https?: boolean;
  /** With https: the listener speaks TLS 1.0 only (Windows Server 2008 R2 SP1's Schannel defaults). */
  tls10Only?: boolean;
  /** Free space the C$ share reports, MiB (default 40 GiB). */
  freeMiB?: number;
}

export interface WindowsGuest {
  name: string;
  address: string;
  computerName: string;
  smbPort: number;
  winrmPort: number;
  /** The guest's local administrator account (also the Samba user). */
  account: { username: string; password: string };
  machine: SimulatedWindows;
  drive: WindowsDrive;
  /** SHA-256 fingerprint of the HTTPS certificate (upper-case hex pairs), when https. */
  certificateFingerprint: string | null;
  /** The WinRM listener's counters (shells, commands, receives, signals, sealed requests), to count round trips. */
  winrmStats(): WinrmServerStats;
  setBehaviour(b: WindowsBehaviour): void;
  setFreeMiB(mib: number): void;
  /** Locks the account out (Samba then answers STATUS_ACCOUNT_LOCKED_OUT). */
  lockAccount(): Promise<void>;
  /** Replaces the HTTPS certificate (restarts the WinRM listener on the same port). */
  renewCertificate(): Promise<string>;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on (for "port closed" cases). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function selfSigned(dir: string, cn: string): Promise<{ key: string; cert: string; fingerprint: string }> {
  const key = path.join(dir, 'winrm.key');
  const cert = path.join(dir, 'winrm.crt');
  await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`]);
  const { stdout } = await execFileP('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']);
  const { readFileSync } = await import('node:fs');
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), fingerprint: stdout.trim().split('=')[1] as string };
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (statSync(p).isDirectory()) for (const n of readdirSync(p)) chownTree(path.join(p, n), uid, gid);
}

/** The folder that is the guest's C: drive, and the smbd dfree script that reports its free space. */
function prepareDrive(base: string, freeMiB: number): { root: string; script: string; setFreeMiB: (mib: number) => void } {
  chmodSync(base, 0o755); // smbd runs the dfree script and serves C: as the guest's (unprivileged) user
  const root = path.join(base, 'C');
  mkdirSync(root, { mode: 0o755 });
  const dfree = path.join(base, 'dfree.txt');
  const setFreeMiB = (mib: number) => writeFileSync(dfree, `${60 * 1024 * 1024} ${Math.floor(mib * 1024)}\n`, { mode: 0o644 });
  setFreeMiB(freeMiB);
  const script = path.join(base, 'dfree.sh');
  writeFileSync(script, `#!/bin/sh\ncat '${dfree}'\n`, { mode: 0o755 });
  return { root, script, setFreeMiB };
}

/**
 * Remote UAC on the administrative share: Windows refuses a UAC-filtered token (a local administrator
 * other than the built-in one, LocalAccountTokenFilterPolicy 0) the tree connect to C$ with
 * STATUS_ACCESS_DENIED. smbd does the same when a share's `root preexec` fails and `root preexec close`
 * is set; the preexec looks for a flag file that follows the guest's `admin: false` behaviour.
 */
function filteredTokenFlag(base: string): { shareOptions: string[]; set: (b: WindowsBehaviour | undefined) => void } {
  const flag = path.join(base, 'filtered-token');
  return {
    shareOptions: [`root preexec = test ! -e ${flag}`, 'root preexec close = yes'],
    set: (b) => { if (b?.admin === false) writeFileSync(flag, ''); else rmSync(flag, { force: true }); },
  };
}

export async function createWindowsGuest(o: WindowsGuestOptions = {}): Promise<WindowsGuest> {
  const base = mkdtempSync(path.join(tmpdir(), 'pi-win-'));
  const { root, script, setFreeMiB } = prepareDrive(base, o.freeMiB ?? 40 * 1024);
  const password = `Win-${randomBytes(9).toString('base64url')}`;
  const computerName = `WIN-${randomBytes(4).toString('hex').toUpperCase()}`;
  let samba: SambaServer | undefined;
  let winrm: WinrmServer | undefined;
  try {
    const filtered = filteredTokenFlag(base);
    filtered.set(o.behaviour);
    samba = await startSamba({ shares: { C$: { path: root, options: [`dfree command = ${script}`, 'dfree cache time = 0', ...filtered.shareOptions] } }, users: [{ password }] });
    const user = samba.users[0] as { name: string; password: string };
    const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await execFileP('id', [flag, user.name])).stdout.trim()))) as [number, number];
    chownTree(root, uid, gid);
    const drive = new WindowsDrive(root, { uid, gid });
    const machine = new SimulatedWindows(drive, { computerName, windowsVersion: o.windowsVersion ?? '2016', arch: o.arch ?? 'AMD64', behaviour: o.behaviour ?? {} });
    let cert = o.https ? await selfSigned(base, computerName) : null;
    const startWinrm = (port?: number) => startWinrmServer({
      host: '127.0.0.1',
      ...(port !== undefined ? { port } : {}),
      ...(cert ? { https: { key: cert.key, cert: cert.cert, legacyOnly: o.tls10Only === true } } : {}),
      computerName,
      users: [{ username: user.name, password }],
      execute: (line, ctx) => machine.execute(line, ctx),
    });
    winrm = await startWinrm();
    const sambaServer = samba;
    const guest: WindowsGuest = {
      name: o.name ?? computerName, address: '127.0.0.1', computerName, smbPort: samba.port, winrmPort: winrm.port,
      account: { username: user.name, password }, machine, drive, certificateFingerprint: cert?.fingerprint ?? null,
      winrmStats: () => (winrm as WinrmServer).stats(),
      setBehaviour: (b) => { machine.behaviour = b; filtered.set(b); },
      setFreeMiB,
      lockAccount: async () => { await execFileP('pdbedit', ['-s', sambaServer.confPath, '-u', user.name, '-c', '[L]']); },
      async renewCertificate() {
        cert = await selfSigned(base, computerName);
        const port = (winrm as WinrmServer).port;
        await (winrm as WinrmServer).stop();
        winrm = await startWinrm(port);
        guest.certificateFingerprint = cert.fingerprint;
        return cert.fingerprint;
      },
      async stop() {
        await winrm?.stop();
        await sambaServer.stop();
        rmSync(base, { recursive: true, force: true });
      },
    };
    return guest;
  } catch (e) {
    await winrm?.stop().catch(() => undefined);
    await samba?.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}
