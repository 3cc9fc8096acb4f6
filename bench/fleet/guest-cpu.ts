// Guest-side CPU of each step of a Linux push, free of the noise of whatever else the machine runs: the
// CPU of a guest's listening sshd with its reaped children (utime + stime + cutime + cstime of
// /proc/<pid>/stat: every connection's sshd, shell and command lands there when it exits), over K
// connections that each do one step, minus K connections that only connect and run `true`.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { probeScript, verifyAndExtract } from '../../src/pipeline/linux/commands.ts';
import { LINUX_RELEASE_FILES } from '../../src/repository/os-mapping.ts';
import { SshChannel } from '../../src/transports/ssh/ssh-channel.ts';
import type { LinuxGuest } from '../../test/lab/linux-guest.ts';

const TICK_MS = 10;

function sshdCpuMs(guest: LinuxGuest): number {
  const pid = readFileSync(path.join(path.dirname(guest.hostPath('/')), 'sshd', 'sshd.pid'), 'utf8').trim();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) * TICK_MS;
}

/** Guest CPU (ms) of each step, median of `rounds` runs of `k` connections per step. */
export async function guestCpuPerStep(guest: LinuxGuest, installer: string, k = 20, rounds = 3): Promise<Array<[string, number]>> {
  const sha = createHash('sha256').update(readFileSync(installer)).digest('hex');
  const connect = () => SshChannel.connect({ host: guest.address, port: guest.port, credentials: { username: guest.users.root.name, password: guest.users.root.password }, connectTimeoutMs: 60_000 });
  const setup = await connect();
  await setup.put(installer, '/tmp/bench-i.tar.gz');
  await setup.close();
  const nonce = 'c'.repeat(24);
  const probe = probeScript(nonce, { releaseFiles: LINUX_RELEASE_FILES, stage: '/tmp/bench-stage', earlier: '/tmp/bench-stage/running.pid', freeSpace: ['/tmp/bench-stage', '/', '/usr/local/ASR'], agentState: true, grub: true });
  const steps: Array<[string, (c: SshChannel) => Promise<unknown>]> = [
    ['one more exec (id -u)', (c) => c.exec('id -u', {})],
    ['exec: the probe', (c) => c.exec(`${probe.asAccount}\n${probe.privileged}`, {})],
    ['exec: sha256sum of the installer', (c) => c.exec('sha256sum /tmp/bench-i.tar.gz', {})],
    ['exec: tar -xzf of the installer', (c) => c.exec('rm -rf /tmp/bench-x && mkdir -p /tmp/bench-x && tar -xzf /tmp/bench-i.tar.gz -C /tmp/bench-x', {})],
    ['exec: verify SHA-256 + extract (pushinstalld\'s)', (c) => c.exec(verifyAndExtract(nonce, '/tmp/bench-i.tar.gz', sha, '/tmp/bench-x'), {})],
    ['SFTP: put the installer', (c) => c.put(installer, '/tmp/bench-j.tar.gz')],
    // The guest's openssl is switched off (see setOpenssl) but present: the same verify + extract with it.
    ['exec: verify SHA-256 + extract, guest with openssl', (c) => c.exec(`PATH=/usr/bin/sslon:$PATH; ${verifyAndExtract(nonce, '/tmp/bench-i.tar.gz', sha, '/tmp/bench-x')}`, {})],
  ];
  mkdirSync(guest.hostPath('/usr/bin/sslon'), { recursive: true });
  copyFileSync(guest.hostPath('/usr/bin/openssl.off'), guest.hostPath('/usr/bin/sslon/openssl'));
  chmodSync(guest.hostPath('/usr/bin/sslon/openssl'), 0o755);
  const run = async (step?: (c: SshChannel) => Promise<unknown>) => {
    const before = sshdCpuMs(guest);
    for (let i = 0; i < k; i++) {
      const c = await connect();
      await c.exec('true', {});
      await step?.(c);
      await c.close();
    }
    await new Promise((r) => setTimeout(r, 300)); // the last connection's processes are reaped
    return (sshdCpuMs(guest) - before) / k;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
  const baselines: number[] = [];
  const per = new Map<string, number[]>(steps.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const base = await run();
    baselines.push(base);
    for (const [name, step] of steps) per.get(name)?.push((await run(step)) - base);
  }
  return [['connect + password authentication + exec `true` (the baseline)', Math.round(median(baselines) * 10) / 10],
    ...steps.map(([name]): [string, number] => [name, Math.round(median(per.get(name) ?? []) * 10) / 10])];
}
