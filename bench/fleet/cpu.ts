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

export interface CpuPerPush {
  /** The whole machine's busy time per push (includes the guests' sshd and whatever else runs). */
  machineMs: number;
  /** The pushing process's own (the bench for the hand-coded paths, the daemon for pushinstalld). */
  pusherMs: number;
  /** redis-server's (pushinstalld only). */
  redisMs?: number;
}

/** Runs `work` and returns the CPU it cost per push. */
export async function cpuPerPush<T>(pushes: number, pusherPid: number, work: () => Promise<T>, redis?: Redis): Promise<{ result: T; cpu: CpuPerPush }> {
  const m0 = machineBusyMs();
  const p0 = processCpuMs(pusherPid);
  const r0 = redis ? await redisCpuMs(redis) : 0;
  const result = await work();
  const per = (ms: number) => Math.round(ms / pushes);
  const cpu: CpuPerPush = { machineMs: per(machineBusyMs() - m0), pusherMs: per(processCpuMs(pusherPid) - p0) };
  if (redis) cpu.redisMs = per((await redisCpuMs(redis)) - r0);
  return { result, cpu };
}
