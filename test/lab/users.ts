// Test-only accounts on the test machine, used by the chrooted sshd guests:
//   pilab-root   a second passwd entry with uid 0 (useradd -o -u 0), so the real root is never touched;
//                sshd chroots every session of it into the guest's root.
//   pilab-user   an ordinary user (not root): the 95108 "not root" case.
//   pilab-sudo   an ordinary user that is a password-less sudoer inside the guests (useSudo).
// Passwords are random per machine and kept in a root-only file, so concurrent test files agree on them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { must, run } from './exec.ts';
import { RUNNER_PID_FILE, USERS_DIR } from './paths.ts';

export interface LabUser { name: string; uid: number; password: string }
export interface LabUsers { root: LabUser; user: LabUser; sudo: LabUser }

const FILE = `${USERS_DIR}/users.json`;
const LOCK = `${USERS_DIR}/users.lock`;
const SPECS = { root: { name: 'pilab-root', uid: 0 }, user: { name: 'pilab-user', uid: 47001 }, sudo: { name: 'pilab-sudo', uid: 47002 } } as const;

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(USERS_DIR, { recursive: true, mode: 0o700 });
  for (let i = 0; i < 600; i++) {
    try {
      mkdirSync(LOCK);
      try { return await fn(); } finally { rmSync(LOCK, { recursive: true, force: true }); }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`lab users: lock ${LOCK} held for a minute`);
}

async function userExists(name: string): Promise<boolean> {
  return (await run('getent', ['passwd', name])).code === 0;
}

async function ensureUser(spec: { name: string; uid: number }, password: string): Promise<void> {
  if (!(await userExists(spec.name))) {
    const args = ['-M', '-d', '/nonexistent', '-s', '/bin/sh', '-c', 'pushinstalld test lab'];
    if (spec.uid === 0) args.push('-o', '-u', '0', '-g', '0'); else args.push('-u', String(spec.uid), '-U');
    args.push(spec.name);
    for (let i = 0; ; i++) {
      const res = await run('useradd', args);
      if (res.code === 0) break;
      if (i > 20 || !/lock/i.test(res.stderr)) throw new Error(`useradd ${spec.name}: ${res.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await must('chpasswd', [], { input: `${spec.name}:${password}\n` });
}

/** Creates (or re-uses) the lab users; idempotent and safe to call from concurrent test processes. */
export async function ensureLabUsers(): Promise<LabUsers> {
  return withLock(async () => {
    if (existsSync(FILE)) {
      const saved = JSON.parse(readFileSync(FILE, 'utf8')) as LabUsers;
      if ((await userExists(saved.root.name)) && (await userExists(saved.user.name)) && (await userExists(saved.sudo.name))) return saved;
    }
    const users = {} as LabUsers;
    for (const [key, spec] of Object.entries(SPECS) as Array<[keyof LabUsers, { name: string; uid: number }]>) {
      const password = `Lab-${randomBytes(12).toString('base64url')}`;
      await ensureUser(spec, password);
      users[key] = { ...spec, password };
    }
    writeFileSync(FILE, JSON.stringify(users), { mode: 0o600 });
    return users;
  });
}

/** Whether a test run of another lab instance is still going (then the shared users must stay). */
function otherRunnerAlive(): boolean {
  for (const dir of readdirSync('/run').filter((d) => d.startsWith('pushinstalld-lab'))) {
    const file = `/run/${dir}/runner.pid`;
    if (file === RUNNER_PID_FILE || !existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    try { process.kill(pid, 0); return true; } catch { /* gone */ }
  }
  return false;
}

/**
 * Removes the lab users (the runner calls it at the end) unless another instance's run still uses them.
 * userdel -f: the uid-0 alias shares uid 0 with running processes.
 */
export async function removeLabUsers(): Promise<void> {
  await withLock(async () => {
    if (otherRunnerAlive()) return;
    for (const spec of Object.values(SPECS)) {
      if (await userExists(spec.name)) await run('userdel', ['-f', spec.name]);
    }
    rmSync(FILE, { force: true });
  });
}
