// The reference paths of the fleet benchmark, each pushing to (or just logging on to) every guest with
// the same concurrency: raw ssh2 sessions (the ceiling), a minimal hand-coded ssh2 push, and what an
// administrator scripts with sshpass + OpenSSH scp/ssh under xargs -P.
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import type { LinuxGuest } from '../../test/lab/linux-guest.ts';
import { pool } from './guests.ts';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface PushSpec {
  installer: string;
  installerName: string;
  passphrase: string;
  csEndpoint: string;
  concurrency: number;
}

export interface PathResult { ok: number; failed: number; seconds: number; firstError?: string }

function connect(g: LinuxGuest): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({ host: g.address, port: g.port, username: g.users.root.name, password: g.users.root.password, readyTimeout: 60_000 });
  });
}

function exec(c: Client, command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err: Error | undefined, ch: ClientChannel) => {
      if (err) { reject(err); return; }
      let output = '';
      ch.on('data', (d: Buffer) => { output += d.toString(); });
      ch.stderr.on('data', (d: Buffer) => { output += d.toString(); });
      ch.on('close', (code: number | null) => resolve({ code, output }));
    });
  });
}

function sftp(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err: Error | undefined, s: SFTPWrapper) => (err ? reject(err) : resolve(s))));
}

const cb = (resolve: () => void, reject: (e: Error) => void) => (err?: Error | null) => (err ? reject(err) : resolve());

async function timed(guests: readonly LinuxGuest[], concurrency: number, one: (g: LinuxGuest) => Promise<void>): Promise<PathResult> {
  const t0 = performance.now();
  const results = await pool(guests, concurrency, one);
  const seconds = (performance.now() - t0) / 1000;
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const out: PathResult = { ok: results.length - failures.length, failed: failures.length, seconds };
  if (failures[0]) out.firstError = String((failures[0].reason as Error)?.message ?? failures[0].reason);
  return out;
}

/** connect + password authentication + `true`: what one SSH session costs, with nothing to copy or run. */
export function rawSessions(guests: readonly LinuxGuest[], concurrency: number): Promise<PathResult> {
  return timed(guests, concurrency, async (g) => {
    const c = await connect(g);
    try {
      const res = await exec(c, 'true');
      if (res.code !== 0) throw new Error(`true exited ${res.code}`);
    } finally { c.end(); }
  });
}

/** The shell line the hand-coded push and the script both run once the files are there. */
function installLine(stage: string, spec: PushSpec): string {
  return `cd ${stage} && tar -xzf ${spec.installerName} && ./install -d /usr/local/ASR -r MS -v VmWare -q`
    + ` && /usr/local/ASR/Vx/bin/UnifiedAgentConfigurator.sh -i ${spec.csEndpoint} -P ${stage}/passphrase.txt; rc=$?; cd /; rm -rf ${stage}; exit $rc`;
}

/**
 * A minimal hand-coded ssh2 push: one connection; over one SFTP session a private staging folder, the
 * installer (ssh2 fastPut with the chunk size and writes in flight of the daemon's copy, which reads through shared buffers instead: src/transports/ssh/sftp-put.ts) and the passphrase file (0600); then one exec
 * doing extract + install + register + clean-up. No checks, no verification: the floor of what any push costs.
 */
/** `steps`: receives each push's step durations (ms), for where the time goes under load. */
export function minimalPush(guests: readonly LinuxGuest[], spec: PushSpec, steps?: Array<Map<string, number>>): Promise<PathResult> {
  return timed(guests, spec.concurrency, async (g) => {
    const mine = new Map<string, number>();
    let t = performance.now();
    await minimalPushOne(g, spec, (step) => { const now = performance.now(); mine.set(step, now - t); t = now; });
    steps?.push(mine);
  });
}

/** One minimal push; `mark` hears each step's name as it ends (for per-step timings). */
async function minimalPushOne(g: LinuxGuest, spec: PushSpec, mark: (step: string) => void = () => undefined): Promise<void> {
  const c = await connect(g);
  mark('connect + authenticate');
  try {
    const s = await sftp(c);
    mark('SFTP session');
    const stage = `/tmp/pushinstall-bench-${g.address.replace(/\./g, '-')}`;
    await new Promise<void>((res, rej) => s.mkdir(stage, { mode: 0o700 }, cb(res, rej)));
    mark('SFTP: mkdir the staging folder');
    await new Promise<void>((res, rej) => s.fastPut(spec.installer, `${stage}/${spec.installerName}`, { concurrency: 16, chunkSize: 261_120, mode: 0o600 }, cb(res, rej)));
    mark('SFTP: put the installer');
    await new Promise<void>((res, rej) => s.writeFile(`${stage}/passphrase.txt`, `${spec.passphrase}\n`, { mode: 0o600 }, cb(res, rej)));
    mark('SFTP: write the passphrase');
    s.end();
    const res = await exec(c, installLine(stage, spec));
    mark('exec: extract + install + register + clean-up');
    if (res.code !== 0) throw new Error(`push exited ${res.code}: ${res.output.slice(-300)}`);
  } finally { c.end(); }
}

/** Per-step wall times of the minimal push, one push at a time (median of `pushes`), for the comparison. */
export async function minimalPushSteps(g: LinuxGuest, spec: PushSpec, pushes: number, reset: () => void): Promise<Array<[string, number]>> {
  const runs: Array<Array<[string, number]>> = [];
  for (let i = 0; i < pushes; i++) {
    reset();
    const steps: Array<[string, number]> = [];
    let t = performance.now();
    await minimalPushOne(g, spec, (step) => { const now = performance.now(); steps.push([step, now - t]); t = now; });
    runs.push(steps);
  }
  return (runs[0] ?? []).map(([name], n) => {
    const xs = runs.map((r) => r[n]?.[1] ?? NaN).sort((a, b) => a - b);
    return [name, Math.round(xs[xs.length >> 1] ?? NaN)];
  });
}

/** What an administrator scripts: `scp` the installer and passphrase, then one `ssh`, per host, under `xargs -P`. */
export async function openSshScript(guests: readonly LinuxGuest[], spec: PushSpec, workDir: string): Promise<PathResult> {
  const passFile = path.join(workDir, 'passphrase.txt');
  writeFileSync(passFile, `${spec.passphrase}\n`, { mode: 0o600 });
  chmodSync(passFile, 0o600);
  const script = path.join(workDir, 'push-one.sh');
  const opts = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o PubkeyAuthentication=no -o PreferredAuthentications=password';
  const user = guests[0]?.users.root.name ?? 'root';
  writeFileSync(script, [
    '#!/bin/sh',
    'set -e',
    'a=$1; p=$2; st=/tmp/pushinstall-bench-script',
    `sshpass -e scp -q -p -P "$p" ${opts} '${spec.installer}' '${passFile}' ${user}@"$a":/tmp/`,
    `sshpass -e ssh -p "$p" ${opts} ${user}@"$a" "mkdir -m 700 $st && mv /tmp/${spec.installerName} /tmp/passphrase.txt $st/ && ${installLine('$st', spec).replace(/\$\?/g, '\\$?').replace(/\$rc/g, '\\$rc')}"`,
    '',
  ].join('\n'), { mode: 0o755 });
  const hosts = guests.map((g) => `${g.address} ${g.port}`).join('\n') + '\n';
  const t0 = performance.now();
  const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('xargs', ['-P', String(spec.concurrency), '-n', '2', 'sh', script], {
      env: { ...process.env, SSHPASS: guests[0]?.users.root.password ?? '' }, stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(hosts);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const seconds = (performance.now() - t0) / 1000;
  const out: PathResult = { ok: res.code === 0 ? guests.length : 0, failed: res.code === 0 ? 0 : guests.length, seconds };
  if (res.code !== 0) out.firstError = `xargs exited ${res.code}: ${res.stderr.slice(-300)}`;
  return out;
}

/** One-shot copy of a big file with `scp` (the whole process, connect to close). */
export async function scpOnce(g: LinuxGuest, file: string, remote: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sshpass', ['-e', 'scp', '-q', '-P', String(g.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no', file, `${g.users.root.name}@${g.address}:${remote}`], {
      env: { ...process.env, SSHPASS: g.users.root.password }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scp exited ${code}: ${stderr}`))));
  });
  return performance.now() - t0;
}
