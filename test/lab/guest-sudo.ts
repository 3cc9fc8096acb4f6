// A real sudo inside a chrooted lab guest (the `sudo` option of createLinuxGuest): the host's Debian
// `sudo` binary with its libraries, plugins and PAM modules copied into the guest root, and a sudoers
// file that makes the lab user pilab-sudo a sudoer, with or without a password. Nothing outside the
// guest root is changed: the test machine's own /etc/sudoers and root account are never touched.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyIn, libraries } from './guest-binaries.ts';

/**
 * `nopasswd`: password-less for every command; `password`: must type a password; `true-only`:
 * password-less for `true` only (so `sudo -n true` passes but every real command asks for a password).
 */
export type GuestSudoMode = 'nopasswd' | 'password' | 'true-only';

const SUDO = '/usr/bin/sudo';
const PLUGIN_DIRS = ['/usr/libexec/sudo', '/usr/lib/sudo'];
const PAM_DIRS = ['/lib/x86_64-linux-gnu/security', '/usr/lib/x86_64-linux-gnu/security', '/lib/security', '/usr/lib/security'];

function hostFile(candidates: string[], what: string): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`lab guest sudo: ${what} not found (looked in ${candidates.join(', ')}); install the sudo package: apt-get install -y sudo`);
  return found;
}

/** Installs sudo into the guest root for `user` (a sudoer: NOPASSWD or asking for a password). */
export async function installGuestSudo(root: string, user: string, mode: GuestSudoMode): Promise<void> {
  if (!existsSync(SUDO)) throw new Error(`lab guest sudo: ${SUDO} is missing; install the sudo package: apt-get install -y sudo`);
  const pluginDir = hostFile(PLUGIN_DIRS.map((d) => path.join(d, 'sudoers.so')), 'the sudoers plugin').replace(/\/sudoers\.so$/, '');
  const pamDir = hostFile(PAM_DIRS.map((d) => path.join(d, 'pam_permit.so')), 'pam_permit.so').replace(/\/pam_permit\.so$/, '');
  const plugin = path.join(pluginDir, 'sudoers.so');
  const pamModules = ['pam_permit.so', 'pam_deny.so'].map((m) => path.join(pamDir, m));

  // sudo refuses to run unless it is owned by root with the setuid bit, and its plugin is root-owned
  // and not writable by others (the lab runs as root, so copies are root-owned).
  copyIn(root, SUDO, 0o4755);
  copyIn(root, plugin, 0o644);
  for (const m of pamModules) copyIn(root, m, 0o644);
  const libs = new Set<string>();
  for (const f of [SUDO, plugin, ...pamModules]) for (const l of await libraries(f)) libs.add(l);
  for (const l of libs) copyIn(root, l, 0o755);

  const etc = (p: string, content: string, fileMode = 0o644) => {
    const target = path.join(root, 'etc', p);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, content);
    chmodSync(target, fileMode);
  };
  etc('sudo.conf', [
    `Plugin sudoers_policy ${plugin}`,
    `Plugin sudoers_io ${plugin}`,
    `Plugin sudoers_audit ${plugin}`,
    'Set disable_coredump true',
  ].join('\n') + '\n');
  // sudo's own checks: /etc/sudoers must be owned by root and mode 0440.
  etc('sudoers', [
    'Defaults env_reset',
    'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'Defaults !lecture, !mail_badpass, !mail_no_user, !mail_no_perms, !syslog, !fqdn',
    'root ALL=(ALL:ALL) ALL',
    // The last matching rule wins.
    mode === 'nopasswd' ? `${user} ALL=(ALL:ALL) NOPASSWD: ALL` : `${user} ALL=(ALL:ALL) ALL`,
    ...(mode === 'true-only' ? [`${user} ALL=(ALL:ALL) NOPASSWD: /bin/true, /usr/bin/true`] : []),
  ].join('\n') + '\n', 0o440);
  // PAM: account and session always pass; authentication never does (a password-less sudoer never
  // reaches it, and `sudo -n` stops before asking for a password).
  etc('pam.d/sudo', [
    `auth     required ${path.join(pamDir, 'pam_deny.so')}`,
    `account  required ${path.join(pamDir, 'pam_permit.so')}`,
    `session  required ${path.join(pamDir, 'pam_permit.so')}`,
  ].join('\n') + '\n');
  etc('pam.d/other', `auth required ${path.join(pamDir, 'pam_deny.so')}\naccount required ${path.join(pamDir, 'pam_deny.so')}\n`);
  etc('nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n');
  for (const d of ['run/sudo/ts', 'var/lib/sudo/lectured']) mkdirSync(path.join(root, d), { recursive: true, mode: 0o700 });
}
