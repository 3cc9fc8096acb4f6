// Renders the fleet benchmark's results as bench/results/fleet.md.

interface Run { path: string; round: number; pushesPerSec: number; seconds: number; ok: number; registered: number; leftovers: number; load1: number; cpu?: { machineMs: number; pusherMs: number; redisMs?: number; guestsMs?: number; benchMs?: number; otherMs?: number } }
interface Wave {
  round: number; acceptMs: number; redisCommandsPerJob: number; commands: Record<string, number>; costs: { recordWrites: number; events: number; logLines: number };
  stepsMs: Array<[string, number, number]>; minimalStepsMs: Array<[string, number, number]>; meanInFlight: number;
}
export interface FleetResult {
  date: string;
  node: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; kernel: string; loadAtStart: number[]; loadAtEnd: number[] };
  settings: { guests: number; concurrency: number; rounds: number; installerMiB: number; labInstance: number };
  runs: Run[];
  daemonWaves: Wave[];
  acceptance: { machines: number; idleMs: number[]; medianIdleMs: number; whilePushing: { machines: number; ms: number | null; each?: Array<{ ms: number; eventLoopLagMs: Record<string, number>; apiOnlyMs: number | null }>; apiOnlyMs?: number | null }; floor?: { addBulkMs: number; createManyMs: number } };
  memory: { rssAtStartMiB: number; rssAtJob200MiB: number | null; rssAtEndMiB: number; jobs: number; rssRange?: { minMiB: number; minAtJob: number; maxMiB: number; maxAtJob: number } | null; heapAfterGcAtJob200MiB: number | null; heapAfterGcAtEndMiB: number | null };
  copy: Record<string, unknown> & { mib?: unknown; medianOursMs?: unknown; medianScpMs?: unknown; ratio?: unknown };
  oneLinuxPush: {
    state: string; sshSessions: number; channelOpens: number; execs: number; sftpSubsystems: number; sftpRequests: Record<string, number>; sftpWrites: number; roundTrips: number;
    stepsMs: Array<[string, number]>; minimalPushStepsMs: Array<[string, number]>;
  };
}

/** pushinstalld again, on the same guests with openssl installed (the copy verified with `openssl dgst`). */
export const OPENSSL_PATH = 'pushinstalld, guests with openssl';
const PATHS = ['raw ssh2 session', 'minimal ssh2 push', 'sshpass + scp/ssh, xargs -P', 'pushinstalld', OPENSSL_PATH];

function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function stepTable(wave: Wave | undefined): string[] {
  if (!wave) return [];
  const rows = Math.max(wave.stepsMs.length, wave.minimalStepsMs.length);
  const sum = (xs: Array<[string, number, number]>, i: 1 | 2) => xs.reduce((n, x) => n + x[i], 0);
  return [
    `Where one push's time goes at this concurrency, round ${wave.round} (per step over the wave's pushes, ms, median / mean; pushinstalld's from its job log timestamps):`,
    '',
    '| pushinstalld step | ms | minimal push step | ms |',
    '|---|---|---|---|',
    ...Array.from({ length: rows }, (_, i) => {
      const a = wave.stepsMs[i];
      const b = wave.minimalStepsMs[i];
      return `| ${a?.[0] ?? ''} | ${a ? `${a[1]} / ${a[2]}` : ''} | ${b?.[0] ?? ''} | ${b ? `${b[1]} / ${b[2]}` : ''} |`;
    }),
    `| sum | ${sum(wave.stepsMs, 1)} / ${sum(wave.stepsMs, 2)} | sum | ${sum(wave.minimalStepsMs, 1)} / ${sum(wave.minimalStepsMs, 2)} |`,
    '',
    `pushinstalld pushes in flight on average over the wave: ${wave.meanInFlight} (of the concurrency ${wave.meanInFlight > 0 ? 'asked' : ''}).`,
    '',
  ];
}

/** The accepts timed while the daemon pushes (one in each of the first memory waves). */
function whilePushingLines(w: FleetResult['acceptance']['whilePushing'], guests: number): string[] {
  const each = w.each ?? [];
  const lag = each.map((a) => `p99 ${a.eventLoopLagMs.p99 ?? '?'} / max ${a.eventLoopLagMs.max ?? '?'}`).join('; ');
  return [
    `- ${w.machines} machines to the paused process server while ${guests} pushes run: median ${w.ms ?? 'n/a'} ms (${each.map((a) => a.ms).join(', ')}: one a second into each of the first ${each.length} memory waves); target < 500 ms.`
    + (lag ? ` The daemon's event loop delay over that second and the request, each time (ms): ${lag}.` : ''),
    ...(w.apiOnlyMs != null ? [`- The same ${w.machines} machines, right after each, to a second process of the deployment with the API role only (ROLES=api; the first one keeps pushing): median ${w.apiOnlyMs} ms (${each.map((a) => a.apiOnlyMs).join(', ')}).`] : []),
  ];
}

/** Memory, Redis, the instrumented push and the big copy. */
function costSections(r: FleetResult): string[] {
  const growth = r.memory.rssAtJob200MiB ? (r.memory.rssAtEndMiB / r.memory.rssAtJob200MiB - 1) * 100 : NaN;
  const wave = r.daemonWaves.at(-1);
  const top = wave ? Object.entries(wave.commands).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ') : '';
  return [
    '## Memory (daemon RSS)',
    '',
    'Every job counted is a push: the untimed warm-up is one enable-replication wave to every guest, then waves one after the other up to the last job (the rounds come after: while the other paths run the daemon idles and V8 gives memory back).',
    `At start ${r.memory.rssAtStartMiB} MiB; around job 200 ${r.memory.rssAtJob200MiB ?? 'n/a'} MiB, around job ${r.memory.jobs} (the last) ${r.memory.rssAtEndMiB} MiB:`,
    `${f(growth, 1)}% from job 200 (target within ±15%). "Around": the median of the samples within 50 jobs, since RSS swings with the copy buffers in flight and GC timing.`,
    ...(r.memory.rssRange ? [`Every sample from the end of the warm-up on: lowest ${r.memory.rssRange.minMiB} MiB (job ${r.memory.rssRange.minAtJob}), highest ${r.memory.rssRange.maxMiB} MiB (job ${r.memory.rssRange.maxAtJob}).`] : []),
    `Live heap after the latest full GC (--trace-gc): ${r.memory.heapAfterGcAtJob200MiB ?? 'n/a'} MiB at job 200, ${r.memory.heapAfterGcAtEndMiB ?? 'n/a'} MiB at the end.`,
    '',
    '## Redis per job (last measured wave)',
    '',
    wave ? `${wave.redisCommandsPerJob} commands per job (INFO commandstats delta over the wave, commands inside Lua scripts included, the bench's own polling excluded); job-record writes ${wave.costs.recordWrites}, change events ${wave.costs.events}, log lines ${wave.costs.logLines} per job.` : 'n/a',
    '',
    `Most frequent: ${top}.`,
    '',
    '## One Linux push, instrumented (ssh2 packet trace of one enable-replication job)',
    '',
    `${r.oneLinuxPush.sshSessions} SSH session(s), ${r.oneLinuxPush.channelOpens} channel opens, ${r.oneLinuxPush.execs} execs, ${r.oneLinuxPush.sftpSubsystems} SFTP session(s), SFTP requests ${JSON.stringify(r.oneLinuxPush.sftpRequests)} + ${r.oneLinuxPush.sftpWrites} pipelined writes: about ${r.oneLinuxPush.roundTrips} sequential round trips after the handshake (job ${r.oneLinuxPush.state}).`,
    '',
    'Each SSH step, one push at a time (median of 5 pushes, ms):',
    '',
    '| pushinstalld step | ms | minimal push step | ms |',
    '|---|---|---|---|',
    ...Array.from({ length: Math.max(r.oneLinuxPush.stepsMs.length, r.oneLinuxPush.minimalPushStepsMs.length) }, (_, i) => {
      const [a, am] = r.oneLinuxPush.stepsMs[i] ?? ['', ''];
      const [b, bm] = r.oneLinuxPush.minimalPushStepsMs[i] ?? ['', ''];
      return `| ${a} | ${am} | ${b} | ${bm} |`;
    }),
    `| total | ${r.oneLinuxPush.stepsMs.reduce((n, [, ms]) => n + ms, 0)} | total | ${r.oneLinuxPush.minimalPushStepsMs.reduce((n, [, ms]) => n + ms, 0)} |`,
    '',
    '## 200 MiB single-file copy, one-shot (connect, authenticate, copy, close)',
    '',
    `${String(r.copy.mib)} MiB: our SSH channel median ${String(r.copy.medianOursMs)} ms, OpenSSH scp median ${String(r.copy.medianScpMs)} ms: ratio ${String(r.copy.ratio)} (target ≤ 1.05).`,
    '',
  ];
}

/** CPU per push, last round: on 2 shared cores at this concurrency, CPU is what bounds the rate. */
function cpuTable(r: FleetResult): string[] {
  const last = Math.max(...r.runs.map((x) => x.round));
  const runs = r.runs.filter((x) => x.round === last && x.cpu);
  if (runs.length === 0) return [];
  return [
    `CPU time per push, round ${last} (ms; the machine's: every core's busy time over the wave; then who spent it: the pushing process, redis-server, the guests' sshd with every connection's processes, the bench process when it is not the pusher, and the rest: the kernel's own work such as loopback traffic, and anything else running):`,
    '',
    '| path | machine | the pushing process (bench or daemon) | redis-server | guests | bench | rest |',
    '|---|---|---|---|---|---|---|',
    ...runs.map((x) => `| ${x.path} | ${x.cpu?.machineMs} | ${x.cpu?.pusherMs} | ${x.cpu?.redisMs ?? ''} | ${x.cpu?.guestsMs ?? ''} | ${x.cpu?.benchMs ?? ''} | ${x.cpu?.otherMs ?? ''} |`),
    '',
  ];
}

export function renderMarkdown(r: FleetResult): string {
  const rate = (p: string) => med(r.runs.filter((x) => x.path === p).map((x) => x.pushesPerSec));
  const minimal = rate('minimal ssh2 push');
  const script = rate('sshpass + scp/ssh, xargs -P');
  const ours = rate('pushinstalld');
  const rows = PATHS.map((p) => {
    const runs = r.runs.filter((x) => x.path === p);
    const ok = runs.map((x) => (p === 'raw ssh2 session' ? `${x.ok}` : `${x.registered}`)).join(' / ');
    return `| ${p} | ${f(rate(p), 1)} | ${runs.map((x) => f(x.pushesPerSec, 1)).join(' / ')} | ${ok} | ${f(rate(p) / minimal)} | ${f(rate(p) / script)} | ${runs.map((x) => f(x.load1, 1)).join(' / ')} |`;
  });
  const wave = r.daemonWaves.at(-1);
  const m = r.machine;
  return [
    '# Fleet benchmark',
    '',
    `${r.date}, Node ${r.node}, ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}.`,
    `${r.settings.guests} lab guests (chrooted sshd on loopback), concurrency ${r.settings.concurrency}, one ${r.settings.installerMiB} MiB`,
    `contract-following installer, ${r.settings.rounds} round(s) of every path, guests reset between paths.`,
    `Load average at start ${m.loadAtStart.join(' ')}, at end ${m.loadAtEnd.join(' ')} (other work on the machine shares its cores:`,
    'compare the ratios within one run, not the absolute rates across runs). Generated by `npm run bench:fleet`.',
    '',
    '| path | pushes/s (median) | per round | registered per round | × minimal push | × script | load (1 min) per round |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...cpuTable(r),
    `Targets: pushinstalld ≥ 0.9× the minimal push (${f(ours / minimal)}×: ${ours / minimal >= 0.9 ? 'met' : 'NOT met'}), ≥ 2× the script (${f(ours / script)}×: ${ours / script >= 2 ? 'met' : 'NOT met'}).`,
    ...(rate(OPENSSL_PATH) > 0 ? [`The same guests with openssl (as the distributions they stand for ship it), where the copy is verified with \`openssl dgst\` instead of busybox's sha256sum (the minimal push verifies nothing): ${f(rate(OPENSSL_PATH) / minimal)}× the minimal push, ${f(rate(OPENSSL_PATH) / script)}× the script.`] : []),
    '',
    ...stepTable(wave),
    '## Acceptance',
    '',
    `- ${r.acceptance.machines} machines to a process server whose workers are paused (nothing runs), push workers idle: median ${r.acceptance.medianIdleMs} ms (${r.acceptance.idleMs.join(', ')}); target < 300 ms.`,
    ...(r.acceptance.floor ? [
      `- The floor, from the bench straight to Redis (no HTTP, no validation), ${r.acceptance.machines} machines: BullMQ addBulk alone ${r.acceptance.floor.addBulkMs} ms, the store's createMany alone ${r.acceptance.floor.createManyMs} ms;`
      + ` the accept above is ${f(r.acceptance.medianIdleMs / r.acceptance.floor.addBulkMs, 1)}× addBulk and ${f(r.acceptance.medianIdleMs / (r.acceptance.floor.addBulkMs + r.acceptance.floor.createManyMs), 2)}× the two together.`,
    ] : []),
    ...whilePushingLines(r.acceptance.whilePushing, r.settings.guests),
    `- The enable request that starts each measured wave (${r.settings.guests} machines): ${r.daemonWaves.map((w) => `${w.acceptMs} ms`).join(', ')}.`,
    '',
    ...costSections(r),
  ].join('\n');
}
