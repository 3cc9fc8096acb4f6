// Where a push's time goes under load: per-step durations of every job of a wave, from the timestamps
// of its log lines (each step starts with a known line), and of the minimal push's steps.
import type { Redis } from 'ioredis';

const STEPS: Array<[RegExp, string]> = [
  [/^attempt /, 'job start'],
  [/^connecting to /, 'SSH connect, authenticate, SFTP session'],
  [/^\$ id -u/, 'exec: id -u (root check)'],
  [/^connected to /, 'connected'],
  [/^\$ (\[uid 0 first\] )?probe /, 'exec: probe'],
  [/^(detected|selected|OS) /, 'OS tag, installer, record write'],
  [/^copying /, 'SFTP: put the installer'],
  [/^copied /, 'copied'],
  [/^\$ verify /, 'exec: verify SHA-256 + extract'],
  [/^verified /, 'task changes, prerequisite checks'],
  [/^prerequisites passed/, 'task changes'],
  [/^\$ cd .*\.\/install /, 'exec: install'],
  [/^installed /, 'task changes (VSS skipped, register started)'],
  [/^\$ write /, 'exec: passphrase + register + verify + clean-up'],
  [/^\/usr\/local\/\.vx_version shows/, 'verified the agent'],
  [/^registered /, 'registered'],
  [/^removed /, 'until the job is final'],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
}

/** Median and mean per step over the jobs, in the order the steps run (a long tail shows as mean ≫ median). */
export function medians(perJob: Array<Map<string, number>>): Array<[string, number, number]> {
  const order: string[] = [];
  for (const job of perJob) for (const k of job.keys()) if (!order.includes(k)) order.push(k);
  return order.map((k) => {
    const xs = perJob.map((j) => j.get(k)).filter((v): v is number => v !== undefined);
    return [k, Math.round(median(xs)), Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)];
  });
}

/** Step durations of each job, from its log (and its record's endedAt for the last step). */
export async function jobSteps(redis: Redis, ids: readonly string[]): Promise<Array<[string, number, number]>> {
  const perJob: Array<Map<string, number>> = [];
  for (const id of ids) {
    const lines = (await redis.lrange(`pi:job:${id}:log`, 0, -1)).map((l) => ({ at: Date.parse(l.slice(0, 24)), text: l.slice(25) }));
    const ended = (JSON.parse((await redis.hget(`pi:job:${id}`, 'data')) ?? '{}') as { endedAt?: string }).endedAt;
    if (ended) lines.push({ at: Date.parse(ended), text: '(end)' });
    const steps = new Map<string, number>();
    for (let i = 0; i + 1 < lines.length; i++) {
      const name = STEPS.find(([re]) => re.test(lines[i]!.text))?.[1];
      if (name) steps.set(name, (steps.get(name) ?? 0) + lines[i + 1]!.at - lines[i]!.at);
    }
    perJob.push(steps);
  }
  return medians(perJob);
}

/** Pushes running at once on average over the wave (sum of attempt times / wave time): is the worker kept full? */
export async function meanInFlight(redis: Redis, ids: readonly string[], waveSeconds: number): Promise<number> {
  let busy = 0;
  for (const id of ids) {
    const job = JSON.parse((await redis.hget(`pi:job:${id}`, 'data')) ?? '{}') as { attemptLog?: Array<{ startedAt: string; endedAt?: string }> };
    for (const a of job.attemptLog ?? []) if (a.endedAt) busy += Date.parse(a.endedAt) - Date.parse(a.startedAt);
  }
  return Math.round((busy / 1000 / waveSeconds) * 10) / 10;
}
