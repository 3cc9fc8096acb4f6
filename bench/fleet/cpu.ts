// CPU time, to tell where a push's cost goes on a machine whose cores every path shares: the whole
// machine's busy time (/proc/stat), one process's (/proc/<pid>/stat) and redis-server's (INFO cpu).
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Busy CPU time of the whole machine so far (ms, all cores): everything but idle and iowait. */
export function machineBusyMs(): number {
  const cols = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = cols.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (cols[3] ?? 0) - (cols[4] ?? 0)) * TICK_MS;
}

/** User + system CPU time of a process so far (ms, all its threads). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** redis-server's user + system CPU time so far (ms). */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

/**
 * CPU of the guests' sshd listeners with their reaped children (ms): every connection's sshd, shell and
 * command lands in its listener's cutime/cstime once it exits, so this is the guest side of the pushes.
 */
export function sshdTreeCpuMs(pidFiles: readonly string[]): number {
  let ms = 0;
  for (const file of pidFiles) {
    const stat = readFileSync(`/proc/${readFileSync(file, 'utf8').trim()}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    ms += ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) * TICK_MS;
  }
  return ms;
}

export interface CpuPerPush {
  /** The whole machine's busy time per push (includes the guests' sshd and whatever else runs). */
  machineMs: number;
  /** The pushing process's own (the bench for the hand-coded paths, the daemon for pushinstalld). */
  pusherMs: number;
  /** redis-server's (pushinstalld only). */
  redisMs?: number;
  /** The guests' side: their sshd listeners with every connection's processes (see sshdTreeCpuMs). */
  guestsMs?: number;
  /** The bench process itself, when it is not the pusher (it polls Redis and reads the daemon's output). */
  benchMs?: number;
  /** What is left of the machine's: the kernel's own work (loopback traffic, softirqs) and anything else. */
  otherMs?: number;
}

/** Runs `work` and returns the CPU it cost per push, split by who spent it. */
export async function cpuPerPush<T>(pushes: number, pusherPid: number, work: () => Promise<T>, opts: { redis?: Redis; guestPidFiles?: readonly string[] } = {}): Promise<{ result: T; cpu: CpuPerPush }> {
  const { redis, guestPidFiles } = opts;
  const separateBench = pusherPid !== process.pid;
  const m0 = machineBusyMs();
  const p0 = processCpuMs(pusherPid);
  const b0 = separateBench ? processCpuMs(process.pid) : 0;
  const g0 = guestPidFiles ? sshdTreeCpuMs(guestPidFiles) : 0;
  const r0 = redis ? await redisCpuMs(redis) : 0;
  const result = await work();
  const per = (ms: number) => Math.round(ms / pushes);
  const machine = machineBusyMs() - m0;
  const pusher = processCpuMs(pusherPid) - p0;
  const cpu: CpuPerPush = { machineMs: per(machine), pusherMs: per(pusher) };
  let known = pusher;
  if (redis) { const ms = (await redisCpuMs(redis)) - r0; cpu.redisMs = per(ms); known += ms; }
  if (guestPidFiles) { const ms = sshdTreeCpuMs(guestPidFiles) - g0; cpu.guestsMs = per(ms); known += ms; }
  if (separateBench) { const ms = processCpuMs(process.pid) - b0; cpu.benchMs = per(ms); known += ms; }
  if (guestPidFiles) cpu.otherMs = per(machine - known);
  return { result, cpu };
}
