// One Linux push, instrumented: an in-process daemon pushes to one guest while ssh2's packet debug
// output is tallied (every ssh2 client of the process gets a `debug` hook), giving the SSH sessions,
// channel opens, execs and SFTP requests one enable-replication job costs; then a few more pushes, one
// at a time, with each SSH step (connect, every exec, every SFTP transfer) timed.
import ssh2 from 'ssh2';
import { SshChannel } from '../../src/transports/ssh/ssh-channel.ts';
import { startTestDaemon, waitForJob } from '../../test/lab/daemon.ts';
import type { LinuxGuest } from '../../test/lab/linux-guest.ts';
import { resetGuest } from './guests.ts';

export interface TripCount {
  state: string;
  sshSessions: number;
  channelOpens: number;
  execs: number;
  sftpSubsystems: number;
  /** SFTP requests other than WRITE, by type (each one waits for its answer). */
  sftpRequests: Record<string, number>;
  sftpWrites: number;
  /**
   * Sequential round trips after the handshake: an exec is three (channel open, exec request, run to
   * exit/close), an SFTP subsystem two (open, subsystem + version), an SFTP request one, and the
   * pipelined writes one per window of 16.
   */
  roundTrips: number;
  commands: string[];
  /** Wall time of each SSH step of the job (median over the pushes), in order. */
  stepsMs: Array<[string, number]>;
}

/** A short name for what an exec does (the guest commands of src/pipeline/linux). */
function stepName(command: string): string {
  // The uid 0 check LinuxGuest puts in front of an account's first command (a line of its own).
  if (command.startsWith('u=$(id -u)')) return `${stepName(command.slice(command.indexOf('\n') + 1))}, uid 0 checked first`;
  const first = /^printf '@@%s begin %s\\n' [0-9a-f]+ ([a-z0-9-]+);/.exec(command)?.[1];
  if (command === 'id -u') return 'exec: id -u (root check)';
  if (first === 'arch' || first === 'uid') return 'exec: probe (OS, arch, agent, staging folder, free space, GRUB)';
  if (/^h=\$\((openssl dgst|sha256sum)/.test(command)) return 'exec: verify SHA-256 + extract';
  if (command.includes('./install ')) return 'exec: install';
  if (first === 'write') return 'exec: passphrase + register + verify + clean-up';
  if (command.startsWith('rm -rf')) return 'exec: remove the staging folder';
  return `exec: ${command.slice(0, 30)}`;
}

type Patchable = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Times every SshChannel connect, exec, put and writeFile of the process while `work` runs. */
async function timingSteps(work: () => Promise<void>): Promise<Array<[string, number]>> {
  const steps: Array<[string, number]> = [];
  const timed = (target: Patchable, name: string, label: (args: unknown[]) => string) => {
    const original = target[name] as (...args: unknown[]) => Promise<unknown>;
    target[name] = async function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      try { return await original.apply(this, args); } finally { steps.push([label(args), performance.now() - t0]); }
    };
    return () => { target[name] = original; };
  };
  const undo = [
    timed(SshChannel as unknown as Patchable, 'connect', () => 'connect + authenticate + SFTP session'),
    timed(SshChannel.prototype as unknown as Patchable, 'exec', (a) => stepName(String(a[0]))),
    timed(SshChannel.prototype as unknown as Patchable, 'put', () => 'SFTP: put the installer'),
    timed(SshChannel.prototype as unknown as Patchable, 'writeFile', () => 'SFTP: write a file'),
  ];
  try { await work(); } finally { for (const u of undo) u(); }
  return steps;
}

const PUSHES = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
}

export async function instrumentedPush(guest: LinuxGuest, opts: { redisUrl: string; repositoryDir: string; passphrase: string; vaultKeyFile?: string }): Promise<TripCount> {
  const count: TripCount = { state: '', sshSessions: 0, channelOpens: 0, execs: 0, sftpSubsystems: 0, sftpRequests: {}, sftpWrites: 0, roundTrips: 0, commands: [], stepsMs: [] };
  const tally = (msg: string) => {
    let m: RegExpExecArray | null;
    if (/^Outbound: Sending CHANNEL_OPEN \(r:\d+, session\)/.test(msg)) count.channelOpens++;
    else if ((m = /^Outbound: Sending CHANNEL_REQUEST \(r:\d+, exec: ([\s\S]*)\)$/.exec(msg))) { count.execs++; count.commands.push((m[1] ?? '').slice(0, 100)); }
    else if (/^Outbound: Sending CHANNEL_REQUEST \(r:\d+, subsystem: sftp\)/.test(msg)) count.sftpSubsystems++;
    else if (/^SFTP: Outbound: (Sent|Buffered) WRITE/.test(msg)) count.sftpWrites++;
    else if ((m = /^SFTP: Outbound: (?:Sending|Buffered) ([A-Z]+)$/.exec(msg))) count.sftpRequests[m[1] as string] = (count.sftpRequests[m[1] as string] ?? 0) + 1;
  };
  const proto = ssh2.Client.prototype as unknown as { connect(this: unknown, cfg: Record<string, unknown>): unknown };
  const original = proto.connect;
  proto.connect = function (cfg) { count.sshSessions++; return original.call(this, { ...cfg, debug: tally }); };
  const d = await startTestDaemon({ redisUrl: opts.redisUrl, repositoryDir: opts.repositoryDir, passphrase: opts.passphrase, env: {
    REPOSITORY_SETTLE_MS: '200', PROCESS_SERVER_ID: 'instrumented',
    // The same Redis as the benchmark's daemon: the cluster's vault key (key agreement).
    ...(opts.vaultKeyFile ? { VAULT_KEY_FILE: opts.vaultKeyFile } : {}),
  } });
  try {
    for (let i = 0; i < 100; i++) {
      const res = await d.api<{ installers: unknown[] }>('GET', '/api/v1/repository/installers');
      if (res.status === 200 && res.body.installers.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const acct = await d.api<{ id: string }>('POST', '/api/v1/run-as-accounts', { name: 'instrumented', osFamily: 'linux', username: guest.users.root.name, password: guest.users.root.password });
    // The first push is traced (and warms the daemon up); the next ones are timed step by step.
    const pushes: Array<Array<[string, number]>> = [];
    for (let i = 0; i <= PUSHES; i++) {
      resetGuest(guest);
      const steps = await timingSteps(async () => {
        const res = await d.api<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', {
          machines: [{ machineId: `instrumented-${i}`, address: guest.address, port: guest.port, os: { family: 'linux' }, runAsAccountId: acct.body.id, processServerId: 'instrumented' }],
        });
        const job = await waitForJob<{ state: string }>(d, res.body.jobs[0]!.id, 120_000);
        count.state ||= job.state;
      });
      if (i === 0) proto.connect = original; else pushes.push(steps);
    }
    count.stepsMs = (pushes[0] ?? []).map(([name], n) => [name, Math.round(median(pushes.map((p) => p[n]?.[1] ?? NaN)))]);
  } finally {
    proto.connect = original;
    await d.stop();
  }
  const requests = Object.values(count.sftpRequests).reduce((a, b) => a + b, 0);
  count.roundTrips = 3 * count.execs + 2 * count.sftpSubsystems + requests + Math.ceil(count.sftpWrites / 16);
  return count;
}
