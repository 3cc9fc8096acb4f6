// A private smbd for tests (../shared/lab/recipes.md): every directory under one mkdtemp dir, bound
// to 127.0.0.1 on a free port, users created for this server only (prefix "pitest") and removed on
// stop. Runs as root. Never started with --no-process-group: on SIGTERM smbd would then kill its whole
// process group, i.e. the test runner; without it `kill <pid>` stops smbd and its children only.
import { spawn, execFile, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { portOwner } from './port-owner.ts';

const execFileP = promisify(execFile);

export interface SambaUser {
  name: string;
  password: string;
}

export interface SambaShare {
  /** Extra `key = value` lines for the share section. */
  options?: string[];
  /** An existing directory to export (e.g. a simulated C: drive as `C$`); default: a new one. */
  path?: string;
}

export interface StartSambaOptions {
  port?: number;
  /** Extra lines for [global], e.g. `server signing = mandatory`. */
  extraGlobal?: string[];
  /** Shares besides the default writable `share`; each gets its own directory. */
  shares?: Record<string, SambaShare>;
  /** Users to create up front (default: one with a random password). */
  users?: Array<{ password: string }>;
}

export interface SambaServer {
  host: string;
  port: number;
  /** Name and directory of the default writable share. */
  share: string;
  shareDir: string;
  /** Directory of any share by name. */
  shareDirs: Record<string, string>;
  users: SambaUser[];
  confPath: string;
  logPath: string;
  addUser(password: string): Promise<SambaUser>;
  disableUser(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Why smbd may be started again on another port. */
class PortTaken extends Error {}

/**
 * Waits until smbd itself listens on `port`. A connect alone is not proof: another test process may
 * have taken the port freePort() chose (smbd then fails to bind and exits, while the connect reached the
 * other server), so the listening socket must be one of smbd's (portOwner, from /proc).
 */
async function waitForPort(port: number, child: ChildProcess, logPath: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      const message = `smbd exited with ${child.exitCode}:\n${log.slice(-2000)}`;
      throw /Address already in use|No sockets available/i.test(log) ? new PortTaken(message) : new Error(message);
    }
    const owner = child.pid === undefined ? 'none' : portOwner(child.pid, port);
    if (owner === 'ours') return;
    if (owner === 'foreign') throw new PortTaken(`port ${port} is taken by another process`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`smbd did not listen on ${port} within ${timeoutMs} ms`);
}

/** Starts smbd on the configured port; on a port taken meanwhile (and none imposed), on another one. */
async function spawnSmbd(confPath: string, logPath: string, port: number, fixedPort: boolean): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const out = openSync(logPath, 'a');
    const child = spawn('smbd', ['--foreground', '--debug-stdout', '-s', confPath], { stdio: ['ignore', out, out] });
    closeSync(out);
    try {
      await waitForPort(port, child, logPath);
      return { child, port };
    } catch (e) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      if (!(e instanceof PortTaken) || fixedPort || attempt >= 5) throw e;
      port = await freePort();
      await writeFile(confPath, (await readFile(confPath, 'utf8')).replace(/^ {2}smb ports = \d+$/m, `  smb ports = ${port}`));
    }
  }
}

async function run(cmd: string, args: string[], input?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0] ?? ''} failed (${code}): ${err.trim()}`))));
    p.stdin.end(input ?? '');
  });
}

/** Writes smb.conf (a standalone server on 127.0.0.1:`port`, state under `base`) and creates the share folders. */
async function writeConfig(base: string, port: number, opts: StartSambaOptions): Promise<{ confPath: string; shareDirs: Record<string, string> }> {
  for (const d of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc']) await mkdir(join(base, d));
  const shareDirs: Record<string, string> = {};
  const shareSections: string[] = [];
  const shares: Record<string, SambaShare> = { share: {}, ...opts.shares };
  for (const [name, share] of Object.entries(shares)) {
    const dir = share.path ?? join(base, 'shares', name);
    if (share.path === undefined) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
    }
    shareDirs[name] = dir;
    shareSections.push(`[${name}]`, `  path = ${dir}`, '  read only = no', ...(share.options ?? []).map((l) => `  ${l}`));
  }
  const confPath = join(base, 'smb.conf');
  const conf = [
    '[global]',
    '  server role = standalone server',
    '  workgroup = PITEST',
    `  private dir = ${join(base, 'private')}`,
    `  lock directory = ${join(base, 'lock')}`,
    `  state directory = ${join(base, 'state')}`,
    `  cache directory = ${join(base, 'cache')}`,
    `  pid directory = ${join(base, 'pid')}`,
    `  ncalrpc dir = ${join(base, 'ncalrpc')}`,
    `  passdb backend = tdbsam:${join(base, 'private', 'passdb.tdb')}`,
    '  interfaces = 127.0.0.1',
    '  bind interfaces only = yes',
    `  smb ports = ${port}`,
    '  disable netbios = yes',
    '  load printers = no',
    '  printing = bsd',
    '  printcap name = /dev/null',
    '  disable spoolss = yes',
    '  usershare path =',
    '  map to guest = never',
    '  log level = 1',
    ...(opts.extraGlobal ?? []).map((l) => `  ${l}`),
    ...shareSections,
    '',
  ].join('\n');
  await writeFile(confPath, conf);
  return { confPath, shareDirs };
}

/**
 * How a running smbd goes away: stop() on purpose; and if the test process exits without it (a crash,
 * a closed stdout pipe), smbd and the test users still go with it (synchronously, as 'exit' handlers must).
 */
function stopper(proc: ChildProcess, users: SambaUser[], base: string, removeUsers: () => Promise<void>): () => Promise<void> {
  const onExit = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    for (const u of users) {
      try { execFileSync('userdel', [u.name], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  return async () => {
    process.removeListener('exit', onExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await removeUsers();
    await rm(base, { recursive: true, force: true });
  };
}

export async function startSamba(opts: StartSambaOptions = {}): Promise<SambaServer> {
  const base = await mkdtemp(join(tmpdir(), 'pitest-smb-'));
  await chmod(base, 0o755); // the share owners (unprivileged test users) must traverse it
  const chosenPort = opts.port ?? (await freePort());
  const { confPath, shareDirs } = await writeConfig(base, chosenPort, opts);
  const logPath = join(base, 'smbd.log');

  const users: SambaUser[] = [];
  const addUser = async (password: string): Promise<SambaUser> => {
    const name = `pitest${randomBytes(4).toString('hex')}`;
    await run('useradd', ['-M', '-s', '/usr/sbin/nologin', name]);
    const user = { name, password };
    users.push(user);
    await run('smbpasswd', ['-c', confPath, '-a', '-s', name], `${password}\n${password}\n`);
    return user;
  };
  const removeUsers = async (): Promise<void> => {
    for (const u of users.splice(0)) await execFileP('userdel', [u.name]).catch(() => undefined);
  };

  let started: { child: ChildProcess; port: number };
  try {
    for (const u of opts.users ?? [{ password: `Pw-${randomBytes(6).toString('hex')}` }]) await addUser(u.password);
    started = await spawnSmbd(confPath, logPath, chosenPort, opts.port !== undefined);
  } catch (e) {
    await removeUsers();
    await rm(base, { recursive: true, force: true });
    throw e;
  }
  const { child, port } = started;
  const stop = stopper(child, users, base, removeUsers);
  return {
    host: '127.0.0.1',
    port,
    share: 'share',
    shareDir: shareDirs.share!,
    shareDirs,
    users,
    confPath,
    logPath,
    addUser,
    disableUser: (name: string) => run('smbpasswd', ['-c', confPath, '-d', name]),
    stop,
  };
}
