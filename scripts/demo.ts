// `npm run demo` (as root on Debian): the daemon pushing to guests of the test lab, in one command.
// Builds demo installers that follow the guest contract, starts three Linux guests (healthy, a failing
// prerequisite, a slow install) and a simulated Windows guest whose VSS step fails (→ Warning), starts
// the daemon with its own embedded redis-server, creates the run-as accounts, submits the pushes, prints
// the dashboard URL and a token, and shows the CLI's progress view until all jobs are final. Ctrl-C stops
// and removes everything it started. DEMO_PORT (default 8080), DEMO_EXIT=1: exit once all are final.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenStore } from '../src/api/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { watchJobs } from '../src/cli/progress.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { createLogger } from '../src/logging/logger.ts';

const cleanups: Array<() => Promise<unknown>> = [];
const say = (line: string) => process.stdout.write(`${line}\n`);

let stopped: Promise<void> | null = null;
/** Undoes what was started, newest first, once (Ctrl-C and the main flow failing because of it both call it). */
function stopAll(): Promise<void> {
  stopped ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((e: Error) => say(`  (clean-up: ${e.message})`));
  })();
  return stopped;
}

async function startDemoDaemon(dir: string, passphrase: string): Promise<{ daemon: Daemon; logFile: string }> {
  const passphraseFile = path.join(dir, 'cs.passphrase');
  writeFileSync(passphraseFile, `${passphrase}\n`, { mode: 0o600 });
  const logFile = path.join(dir, 'daemon.log');
  const log = createWriteStream(logFile);
  cleanups.push(async () => log.end());
  const env = {
    HOST: '127.0.0.1', DATA_DIR: path.join(dir, 'data'), REPOSITORY_DIR: path.join(dir, 'repository'), CS_ENDPOINT: '10.0.0.4', CS_VERSION: '9.30.0.0',
    CS_PASSPHRASE_FILE: passphraseFile, REPOSITORY_SETTLE_MS: '200', LOG_FORMAT: 'json', CONNECT_TIMEOUT_MS: '5000',
  };
  const logger = createLogger('info', log, 'json');
  try {
    return { daemon: await startDaemon(loadConfig({ ...env, PORT: process.env.DEMO_PORT ?? '8080' }, dir, false), logger), logFile };
  } catch (e) {
    if (!/EADDRINUSE/.test((e as Error).message) || process.env.DEMO_PORT) throw e;
    say('  port 8080 is taken: using a free port');
    return { daemon: await startDaemon(loadConfig({ ...env, PORT: '0' }, dir, false), logger), logFile };
  }
}

/** Demo installers, the lab (its test users) and the four guests, each undone by `stopAll`. */
async function startLab(dir: string, passphrase: string) {
  // Its own lab instance, so a test run on the same machine keeps its guests (read when the lab loads).
  process.env.PUSHINSTALLD_LAB_INSTANCE ??= '9';
  const lab = await import('../test/lab/lab-run.ts');
  const { createLinuxGuest } = await import('../test/lab/linux-guest.ts');
  const { createWindowsGuest } = await import('../test/lab/windows-guest.ts');
  const { buildLinuxInstaller, installerFileName } = await import('../test/lab/installers.ts');
  const { buildWindowsInstaller } = await import('../test/lab/windows-installer.ts');

  mkdirSync(path.join(dir, 'repository'));
  await buildLinuxInstaller(path.join(dir, 'repository', installerFileName('9.30.0.0', 'UBUNTU-20.04-64')), '9.30.0.0');
  buildWindowsInstaller(path.join(dir, 'repository', installerFileName('9.30.0.0', 'Windows')), '9.30.0.0');
  await lab.beginRun();
  cleanups.push(() => lab.endRun());
  const linux = { os: 'ubuntu-20.04' as const };
  const [web, db, app, win] = await Promise.all([
    createLinuxGuest({ name: 'web-01', ...linux, behaviour: { passphrase, installSleep: 3 } }),
    createLinuxGuest({ name: 'db-01', ...linux, grubDeviceNames: true, behaviour: { passphrase } }),
    createLinuxGuest({ name: 'app-01', ...linux, behaviour: { passphrase, installSleep: 20 } }),
    createWindowsGuest({ name: 'win01', windowsVersion: '2016', behaviour: { passphrase, installExit: 511 } }),
  ]);
  cleanups.push(() => Promise.all([web.destroy(), db.destroy(), app.destroy(), win.stop()]));
  return { web, db, app, win };
}

/** The run-as accounts and the four pushes, through the typed API client; returns the job ids. */
async function submit(client: ApiClient, guests: Awaited<ReturnType<typeof startLab>>): Promise<string[]> {
  const { web, db, app, win } = guests;
  const linuxAccount = await client.createAccount({ name: 'lab root', osFamily: 'linux', username: web.users.root.name, password: web.users.root.password });
  const windowsAccount = await client.createAccount({ name: 'lab administrator', osFamily: 'windows', domain: '.', ...win.account });
  const linux = (machineId: string, g: typeof web) => ({ machineId, address: g.address, port: g.port, os: { family: 'linux' as const }, runAsAccountId: linuxAccount.id });
  const machines = [
    linux('web-01', web), linux('db-01', db), linux('app-01', app),
    { machineId: 'win-01', address: win.address, port: win.winrmPort, smbPort: win.smbPort, os: { family: 'windows' as const, name: 'Microsoft Windows Server 2016 (64-bit)' }, runAsAccountId: windowsAccount.id },
  ];
  return (await client.enableReplication(machines)).map((j) => j.id);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo starts sshd and smbd guests and adds test users: run it as root (sudo npm run demo)');
  const dir = mkdtempSync(path.join(tmpdir(), 'pushinstalld-demo-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  say('pushinstalld demo: building installers and starting the lab guests…');
  const passphrase = `Demo-${Math.random().toString(36).slice(2, 12)}`;
  const guests = await startLab(dir, passphrase);
  const { daemon, logFile } = await startDemoDaemon(dir, passphrase);
  cleanups.push(() => daemon.stop());
  const url = daemon.url as string;
  const admin = daemon.firstAdminToken as string;
  const operator = new TokenStore(path.join(dir, 'data', 'tokens.json')).add('demo-operator', 'operator');
  const client = new ApiClient({ baseUrl: url, token: admin });
  const ids = await submit(client, guests);

  say('');
  say(`  Dashboard:       ${url}/ui`);
  say(`  Admin token:     ${admin}`);
  say(`  Operator token:  ${operator}`);
  say(`  API:             ${url}/docs · metrics: curl -H "Authorization: Bearer <token>" ${url}/metrics`);
  say(`  Daemon log:      ${logFile}`);
  say('');
  say('  web-01 healthy · db-01 fails its prerequisite check (GRUB device names) · app-01 installs slowly · win-01 VSS fails (Warning)');
  say('');
  // The CLI's progress view (pushinstalld jobs watch), on the event stream, until every job is final.
  if ((await watchJobs(client, { jobIds: ids })).interrupted) return;
  const jobs = await Promise.all(ids.map((id) => client.getJob(id)));
  say('');
  for (const job of jobs) {
    const e = job.errors[0];
    say(`  ${job.machine.machineId.padEnd(7)} ${job.state.padEnd(9)} ${e ? `${e.code} ${e.message}\n${' '.repeat(20)}→ ${e.recommendedAction}` : ''}`);
  }
  say('');
  if (process.env.DEMO_EXIT === '1') return;
  say(`  All jobs are final. The dashboard stays up at ${url}/ui; Ctrl-C stops and removes everything.`);
  await new Promise(() => undefined);
}

function runDemo(): void {
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    say('\n  stopping: daemon, guests, lab users, demo folder…');
    void stopAll().then(() => process.exit(0));
  });
  main().then(
    async () => { await stopAll(); process.exit(0); },
    async (e: Error) => {
      // After Ctrl-C the watch loop fails as the daemon goes away: that is the SIGINT handler's exit.
      if (interrupted) return;
      process.stderr.write(`demo: ${e.message}\n`);
      await stopAll();
      process.exit(1);
    },
  );
}

if (process.env.PUSHINSTALLD_DEMO_RUN === '1') runDemo();
else {
  // Ctrl-C in a terminal signals the whole foreground process group: redis-server, sshd and smbd would
  // die under the daemon before it could stop them in order. So the demo runs in a group of its own and
  // hears Ctrl-C from here only.
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    detached: true, stdio: 'inherit', env: { ...process.env, PUSHINSTALLD_DEMO_RUN: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill('SIGINT'));
  child.on('exit', (code) => process.exit(code ?? 1));
}
