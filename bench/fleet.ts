// Fleet benchmark (`npm run bench:fleet`, root on Debian; uses the test lab): how fast pushinstalld
// pushes one contract-following installer (4 MiB of incompressible padding) to N lab guests, against
// raw ssh2 sessions (the ceiling), a minimal hand-coded ssh2 push and an sshpass + OpenSSH scp/ssh
// script under xargs -P, all at the same concurrency, guests reset between paths. Also: accept latency
// of 1,000 machines to a process server whose workers are paused, daemon RSS across 1,000 jobs, Redis
// commands and job-record writes per job, and a 200 MiB single-file copy (our SSH channel vs scp).
// Run: node --import tsx bench/fleet.ts [--guests 150] [--concurrency 16] [--rounds 2] [--jobs 1000]
//      [--accept 1000] [--copy-mib 200] [--copy-rounds 5] [--pad-mib 4] [--trips-only]
//      [--daemon-prof <dir>] (CPU profile of the daemon, written when it stops)
//      [--guest-cpu] (only: the guest-side CPU of each step of a push, see fleet/guest-cpu.ts)
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessServerRegistry } from '../src/jobs/process-servers.ts';
import { Queues } from '../src/jobs/queues.ts';
import { JobStore } from '../src/jobs/store.ts';
import { newJob } from '../src/jobs/transitions.ts';
import { SshChannel } from '../src/transports/ssh/ssh-channel.ts';
import { beginRun, endRun } from '../test/lab/lab-run.ts';
import { buildLinuxInstaller, installerFileName } from '../test/lab/installers.ts';
import type { LinuxGuest } from '../test/lab/linux-guest.ts';
import { LAB_INSTANCE } from '../test/lab/paths.ts';
import { startLabRedis } from '../test/lab/redis.ts';
import { commandStats, finalCount, startBenchDaemon, statsDelta, type BenchDaemon } from './fleet/daemon.ts';
import { cpuPerPush, type CpuPerPush } from './fleet/cpu.ts';
import { createGuests, leftovers, registeredCount, resetGuest, setOpenssl } from './fleet/guests.ts';
import { OPENSSL_PATH, renderMarkdown, type FleetResult } from './fleet/report.ts';
import { guestCpuPerStep } from './fleet/guest-cpu.ts';
import { instrumentedPush } from './fleet/round-trips.ts';
import { jobSteps, meanInFlight, medians } from './fleet/steps.ts';
import { minimalPush, minimalPushSteps, openSshScript, rawSessions, scpOnce, type PathResult, type PushSpec } from './fleet/ssh-paths.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const GUESTS = arg('guests', 150);
const CONCURRENCY = arg('concurrency', 16);
const ROUNDS = arg('rounds', 2);
const JOBS = arg('jobs', 1000);
const ACCEPT = arg('accept', 1000);
const ACCEPT_ROUNDS = arg('accept-rounds', 5);
const COPY_MIB = arg('copy-mib', 200);
const COPY_ROUNDS = arg('copy-rounds', 5);
const PAD_MIB = arg('pad-mib', 4);
const TAG = 'UBUNTU-20.04-64';
const VERSION = '9.30.0.0';
const CS_ENDPOINT = '10.0.0.4';
const PAUSED_PS = 'paused';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const round = (n: number, d = 2) => Number(n.toFixed(d));

interface PathRun extends PathResult { path: string; round: number; registered: number; leftovers: number; pushesPerSec: number; load1: number; cpu?: CpuPerPush }

function finish(pathName: string, r: number, res: PathResult, guests: readonly LinuxGuest[], push: boolean, cpu?: CpuPerPush): PathRun {
  const run: PathRun = {
    ...res, ...(cpu ? { cpu } : {}), path: pathName, round: r, registered: push ? registeredCount(guests) : 0, leftovers: push ? leftovers(guests) : 0,
    pushesPerSec: round(guests.length / res.seconds), load1: load()[0] ?? 0, seconds: round(res.seconds),
  };
  console.log(`${pathName} round ${r}: ${run.pushesPerSec}/s in ${run.seconds} s, ok ${res.ok}/${guests.length}${push ? `, registered ${run.registered}, leftovers ${run.leftovers}` : ''}${res.firstError ? `, first error: ${res.firstError}` : ''}${cpu ? `, CPU ms/push ${JSON.stringify(cpu)}` : ''}`);
  return run;
}

/** One enable-replication request for every guest; waits until every job is final. */
async function daemonWave(d: BenchDaemon, guests: readonly LinuxGuest[], accountId: string, wave: string, onPoll?: (final: number) => Promise<void>): Promise<{ acceptMs: number; seconds: number; ids: string[]; polls: number }> {
  const machines = guests.map((g, i) => ({ machineId: `${wave}-${i}`, address: g.address, port: g.port, os: { family: 'linux' }, runAsAccountId: accountId }));
  const before = await finalCount(d.redis);
  const t0 = Date.now();
  const res = await d.api<{ jobs: Array<{ id: string; created: boolean }> }>('POST', '/api/v1/replication/enable', { machines });
  if (res.status !== 202) throw new Error(`enable: ${res.status} ${JSON.stringify(res.body)}`);
  const ids = res.body.jobs.map((j) => j.id);
  let polls = 1;
  for (;;) {
    const final = await finalCount(d.redis);
    polls++;
    await onPoll?.(final);
    if (final - before >= ids.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const ended = await Promise.all(ids.map(async (id) => Date.parse(/"endedAt":"([^"]+)"/.exec((await d.redis.hget(`pi:job:${id}`, 'data')) ?? '')?.[1] ?? '')));
  return { acceptMs: res.ms, seconds: (Math.max(...ended) - t0) / 1000, ids, polls };
}

async function acceptPaused(d: BenchDaemon, accountId: string, count: number, label: string): Promise<number> {
  const machines = Array.from({ length: count }, (_, i) => ({
    machineId: `${label}-${i}`, address: `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, os: { family: 'linux', tag: TAG }, runAsAccountId: accountId, processServerId: PAUSED_PS,
  }));
  const res = await d.api<{ jobs: unknown[] }>('POST', '/api/v1/replication/enable', { machines });
  if (res.status !== 202 || res.body.jobs.length !== count) throw new Error(`accept ${label}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.ms;
}

async function jobCosts(d: BenchDaemon, ids: string[]): Promise<{ recordWrites: number; events: number; logLines: number }> {
  let writes = 0; let events = 0; let lines = 0;
  for (const id of ids) {
    writes += Number(await d.redis.hget(`pi:job:${id}`, 'rev')) + 1; // the create, then one write per rev
    events += await d.redis.xlen(`pi:job:${id}:events`);
    lines += await d.redis.llen(`pi:job:${id}:log`);
  }
  return { recordWrites: round(writes / ids.length, 1), events: round(events / ids.length, 1), logLines: round(lines / ids.length, 1) };
}

async function copyComparison(guest: LinuxGuest, workDir: string): Promise<Record<string, unknown>> {
  const file = path.join(workDir, 'copy.bin');
  writeFileSync(file, randomBytes(COPY_MIB * 1024 * 1024));
  const ours = async () => {
    rmSync(guest.hostPath('/tmp/ours.bin'), { force: true });
    const t0 = performance.now();
    const ch = await SshChannel.connect({ host: guest.address, port: guest.port, credentials: { username: guest.users.root.name, password: guest.users.root.password }, connectTimeoutMs: 60_000 });
    await ch.put(file, '/tmp/ours.bin');
    await ch.close();
    return performance.now() - t0;
  };
  const theirs = async () => { rmSync(guest.hostPath('/tmp/scp.bin'), { force: true }); return scpOnce(guest, file, '/tmp/scp.bin'); };
  await ours(); await theirs(); // warm-up, not counted
  const o: number[] = []; const t: number[] = [];
  for (let r = 0; r < COPY_ROUNDS; r++) {
    if (r % 2 === 0) { o.push(await ours()); t.push(await theirs()); } else { t.push(await theirs()); o.push(await ours()); }
    console.log(`copy round ${r + 1}: ours ${o.at(-1)!.toFixed(0)} ms, scp ${t.at(-1)!.toFixed(0)} ms`);
  }
  rmSync(file, { force: true });
  resetGuest(guest);
  return { mib: COPY_MIB, rounds: COPY_ROUNDS, oursMs: o.map(Math.round), scpMs: t.map(Math.round), medianOursMs: Math.round(median(o)), medianScpMs: Math.round(median(t)), ratio: round(median(o) / median(t), 3) };
}

interface Sample { jobs: number; rssMiB: number; heapAfterGcMiB: number | null }
type DaemonWaveResult = {
  round: number; acceptMs: number; redisCommandsPerJob: number; commands: Record<string, number>; costs: Awaited<ReturnType<typeof jobCosts>>;
  /** Median per step under load: pushinstalld's (from its job logs) and the minimal push's, same round. */
  stepsMs: Array<[string, number, number]>; minimalStepsMs: Array<[string, number, number]>; meanInFlight: number;
};

/** What the daemon paths share: the daemon, its account, the guests, and the RSS samples taken on every poll. */
interface DaemonBench { d: BenchDaemon; accountId: string; guests: LinuxGuest[]; spec: PushSpec; workDir: string; samples: Sample[]; apiOnly?: BenchDaemon }

/** Each guest's sshd listener pid file (the lab writes it next to the guest's root). */
const sshdPidFiles = (guests: readonly LinuxGuest[]): string[] => guests.map((g) => path.join(path.dirname(g.hostPath('/')), 'sshd', 'sshd.pid'));

function resetAll(guests: readonly LinuxGuest[]): void {
  for (const g of guests) resetGuest(g);
}

async function sample(b: DaemonBench, final: number): Promise<void> {
  b.samples.push({ jobs: final, rssMiB: round(b.d.rssMiB(), 1), heapAfterGcMiB: b.d.heapAfterGcMiB() });
}

/** The daemon with a run-as account, a paused process server, and an untimed warm-up. */
async function setUpDaemon(d: BenchDaemon, guests: LinuxGuest[]): Promise<string> {
  const acct = await d.api<{ id: string }>('POST', '/api/v1/run-as-accounts', { name: 'fleet root', osFamily: 'linux', username: guests[0]!.users.root.name, password: guests[0]!.users.root.password });
  if (acct.status !== 201) throw new Error(`account: ${acct.status}`);
  await new ProcessServerRegistry(d.redis).heartbeat(PAUSED_PS, { instance: 'bench (no worker: nothing runs)', pid: 0, host: 'bench', concurrency: 0 });
  // Warm-up, untimed: one enable-replication wave to every guest, guests reset after. It pins each host
  // key on first use (as a fleet's second push finds it pinned) and brings the daemon to the state it
  // pushes in (code paths compiled, heap and copy buffers grown), so that "job 200" in the memory
  // figures is the 200th push, not the 50th after a ramp-up.
  await daemonWave(d, guests, acct.body.id, 'warm');
  resetAll(guests);
  return acct.body.id;
}

/** One round of every path, guests reset before each. */
async function compareRound(b: DaemonBench, r: number, runs: PathRun[], waves: DaemonWaveResult[]): Promise<void> {
  const { d, guests } = b;
  resetAll(guests);
  const raw = await cpuPerPush(guests.length, process.pid, () => rawSessions(guests, CONCURRENCY), { guestPidFiles: sshdPidFiles(guests) });
  runs.push(finish('raw ssh2 session', r, raw.result, guests, false, raw.cpu));
  resetAll(guests);
  const minimalSteps: Array<Map<string, number>> = [];
  const minimal = await cpuPerPush(guests.length, process.pid, () => minimalPush(guests, b.spec, minimalSteps), { guestPidFiles: sshdPidFiles(guests) });
  runs.push(finish('minimal ssh2 push', r, minimal.result, guests, true, minimal.cpu));
  resetAll(guests);
  const script = await cpuPerPush(guests.length, process.pid, () => openSshScript(guests, b.spec, b.workDir), { guestPidFiles: sshdPidFiles(guests) });
  runs.push(finish('sshpass + scp/ssh, xargs -P', r, script.result, guests, true, script.cpu));
  resetAll(guests);
  const before = await commandStats(d.redis);
  const { result: wave, cpu } = await cpuPerPush(guests.length, d.child.pid ?? 0, () => daemonWave(d, guests, b.accountId, `round${r}`, (final) => sample(b, final)), { redis: d.redis, guestPidFiles: sshdPidFiles(guests) });
  const delta = statsDelta(before, await commandStats(d.redis));
  delete delta.info;
  delta.hgetall = (delta.hgetall ?? 0) - wave.polls; // the bench's own polling
  const perJob = Object.values(delta).reduce((a, c) => a + c, 0) / guests.length;
  const ok = (await Promise.all(wave.ids.map((id) => d.redis.hget(`pi:job:${id}`, 'state')))).filter((st) => st === 'Succeeded').length;
  runs.push(finish('pushinstalld', r, { ok, failed: guests.length - ok, seconds: wave.seconds }, guests, true, cpu));
  // The same push where the guests have openssl, as every mainstream distribution ships it: the copy is
  // verified with `openssl dgst` (SHA instructions) instead of busybox's sha256sum.
  resetAll(guests);
  setOpenssl(guests, true);
  try {
    const withSsl = await cpuPerPush(guests.length, d.child.pid ?? 0, () => daemonWave(d, guests, b.accountId, `openssl${r}`), { redis: d.redis, guestPidFiles: sshdPidFiles(guests) });
    const sslOk = (await Promise.all(withSsl.result.ids.map((id) => d.redis.hget(`pi:job:${id}`, 'state')))).filter((st) => st === 'Succeeded').length;
    runs.push(finish(OPENSSL_PATH, r, { ok: sslOk, failed: guests.length - sslOk, seconds: withSsl.result.seconds }, guests, true, withSsl.cpu));
  } finally {
    setOpenssl(guests, false);
  }
  const commands = Object.fromEntries(Object.entries(delta).map(([k, v]): [string, number] => [k, round(v / guests.length, 2)]).sort((x, y) => y[1] - x[1]));
  waves.push({
    round: r, acceptMs: Math.round(wave.acceptMs), redisCommandsPerJob: round(perJob, 1), commands, costs: await jobCosts(d, wave.ids),
    stepsMs: await jobSteps(d.redis, wave.ids), minimalStepsMs: medians(minimalSteps), meanInFlight: await meanInFlight(d.redis, wave.ids, wave.seconds),
  });
}

/** The daemon's event loop delay (prom-client's, since the previous /metrics read), ms. */
async function eventLoopLag(d: BenchDaemon): Promise<Record<string, number>> {
  const text = String((await d.api<string>('GET', '/metrics')).body);
  const out: Record<string, number> = {};
  for (const k of ['p50', 'p99', 'max', 'mean']) {
    const m = new RegExp(`^nodejs_eventloop_lag_${k}_seconds ([\\d.e+-]+)$`, 'm').exec(text);
    if (m) out[k] = round(Number(m[1]) * 1000, 1);
  }
  return out;
}

/** How many of the memory waves also time an accept while they push (the median is reported). */
const ACCEPTS_WHILE_PUSHING = 3;

interface AcceptWhilePushing { ms: number; eventLoopLagMs: Record<string, number>; apiOnlyMs: number | null }

/**
 * Keeps pushing in waves, one after the other (guests reset between), until JOBS jobs have run, sampling
 * RSS on every poll; each of the first ACCEPTS_WHILE_PUSHING waves also times, a second into the wave, an
 * accept of as many machines to the paused process server, then the same request to the API-only process.
 */
async function memoryWaves(b: DaemonBench, jobsRun: number): Promise<{ jobsRun: number; accepts: AcceptWhilePushing[] }> {
  const accepts: AcceptWhilePushing[] = [];
  for (let w = 1; jobsRun < JOBS; w++) {
    resetAll(b.guests);
    let sent = false;
    const wave = await daemonWave(b.d, b.guests, b.accountId, `mem${w}`, async (final) => {
      await sample(b, final);
      if (!sent && w <= ACCEPTS_WHILE_PUSHING) {
        sent = true;
        await eventLoopLag(b.d); // resets prom-client's event loop histogram
        await new Promise((r) => setTimeout(r, 1000));
        const ms = Math.round(await acceptPaused(b.d, b.accountId, b.guests.length, `while-pushing${w}`));
        const eventLoopLagMs = await eventLoopLag(b.d);
        // The same request to an API-only process of the same deployment (ROLES=api), the pushes still running.
        const apiOnlyMs = b.apiOnly ? Math.round(await acceptPaused(b.apiOnly, b.accountId, b.guests.length, `api-only-while-pushing${w}`)) : null;
        accepts.push({ ms, eventLoopLagMs, apiOnlyMs });
      }
    });
    jobsRun += wave.ids.length;
    console.log(`memory wave ${w}: ${jobsRun} jobs run, RSS ${b.d.rssMiB().toFixed(1)} MiB, heap after the last full GC ${b.d.heapAfterGcMiB() ?? '?'} MiB`);
  }
  return { jobsRun, accepts };
}

/**
 * The floor under an accept of ACCEPT machines, from this process straight to Redis (no HTTP, no
 * validation): BullMQ's addBulk of ACCEPT entries with our job options alone, and the store's createMany
 * of ACCEPT records alone (the two steps a submit takes after validating). Medians of ACCEPT_ROUNDS.
 */
async function acceptFloor(d: BenchDaemon, accountId: string): Promise<{ addBulkMs: number; createManyMs: number }> {
  const queues = new Queues(d.redis, { attempts: 3, backoffMs: 30_000 });
  const store = new JobStore(d.redis);
  const addBulk: number[] = [];
  const createMany: number[] = [];
  for (let r = 0; r < ACCEPT_ROUNDS; r++) {
    const records = Array.from({ length: ACCEPT }, (_, i) => newJob({
      type: 'enable-replication', processServerId: 'floor',
      machine: { machineId: `floor${r}-${i}`, address: `10.200.${(i >> 8) & 255}.${i & 255}`, os: { family: 'linux', tag: TAG }, runAsAccountId: accountId },
    }));
    let t0 = performance.now();
    await store.createMany(records);
    createMany.push(performance.now() - t0);
    t0 = performance.now();
    await queues.enqueueMany('floor', records.map((j) => j.id));
    addBulk.push(performance.now() - t0);
  }
  await queues.get('floor').obliterate({ force: true });
  await queues.close();
  return { addBulkMs: Math.round(median(addBulk)), createManyMs: Math.round(median(createMany)) };
}

/** The lowest and highest RSS sample from the end of the warm-up on, and the job each was taken at. */
function rssRange(samples: readonly Sample[]) {
  const by = [...samples].sort((x, y) => x.rssMiB - y.rssMiB);
  const [lo, hi] = [by[0], by.at(-1)];
  return lo && hi ? { minMiB: lo.rssMiB, minAtJob: lo.jobs, maxMiB: hi.rssMiB, maxAtJob: hi.jobs } : null;
}

function memorySummary(b: DaemonBench, rssAtStart: number, jobsRun: number) {
  const at = (n: number) => b.samples.find((x) => x.jobs >= n) ?? null;
  // RSS swings with the copy buffers in flight (16 pushes × 4 MiB) and GC timing: compare medians of the
  // samples taken within 50 jobs of job 200 and of the last job, not two single readings.
  const around = (n: number) => round(median(b.samples.filter((x) => Math.abs(x.jobs - n) <= 50).map((x) => x.rssMiB)), 1);
  return {
    rssAtStartMiB: round(rssAtStart, 1), rssAtJob200MiB: around(200), rssAtEndMiB: around(jobsRun), jobs: jobsRun, rssRange: rssRange(b.samples),
    heapAfterGcAtJob200MiB: at(200)?.heapAfterGcMiB ?? null, heapAfterGcAtEndMiB: b.d.heapAfterGcMiB(), samples: b.samples.filter((_, i) => i % 5 === 0),
  };
}

function writeResults(result: FleetResult & Record<string, unknown>): void {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'fleet.json'), `${JSON.stringify(result, null, 2)}\n`);
  const md = renderMarkdown(result);
  writeFileSync(path.join(dir, 'fleet.md'), md);
  console.log(md);
}

/**
 * The daemon part: warm-up, memory waves (pushing without a pause from the warm-up to job JOBS: while the
 * other paths run the daemon idles and V8 gives memory back, which would hide growth or fake it), the
 * rounds (with the other paths), acceptance; then the daemon stops.
 */
async function daemonPart(b: Omit<DaemonBench, 'accountId' | 'samples'>) {
  const rssAtStart = b.d.rssMiB();
  const bench: DaemonBench = { ...b, accountId: await setUpDaemon(b.d, b.guests), samples: [] };
  await sample(bench, await finalCount(b.d.redis)); // after the warm-up wave
  const { jobsRun, accepts } = await memoryWaves(bench, await finalCount(b.d.redis));
  const memory = memorySummary(bench, rssAtStart, jobsRun);
  bench.samples = []; // the rounds' polls sample too; the memory figures are the waves'
  const runs: PathRun[] = [];
  const daemonWaves: DaemonWaveResult[] = [];
  for (let r = 1; r <= ROUNDS; r++) await compareRound(bench, r, runs, daemonWaves);
  // Acceptance to a process server whose workers are paused (nothing runs), with the push workers idle.
  const acceptMs: number[] = [];
  for (let r = 0; r < ACCEPT_ROUNDS; r++) acceptMs.push(await acceptPaused(b.d, bench.accountId, ACCEPT, `accept${r}`));
  console.log(`accept ${ACCEPT}: ${acceptMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  const floor = await acceptFloor(b.d, bench.accountId);
  console.log(`accept floor: ${JSON.stringify(floor)}`);
  const apiOnly = accepts.flatMap((a) => (a.apiOnlyMs === null ? [] : [a.apiOnlyMs]));
  const whilePushing = {
    machines: GUESTS, ms: accepts.length ? Math.round(median(accepts.map((a) => a.ms))) : null, each: accepts,
    apiOnlyMs: apiOnly.length ? Math.round(median(apiOnly)) : null,
  };
  return { runs, daemonWaves, memory, acceptance: { machines: ACCEPT, idleMs: acceptMs.map(Math.round), medianIdleMs: Math.round(median(acceptMs)), whilePushing, floor } };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the fleet benchmark needs root (it starts the test lab\'s sshd guests)');
  const started = new Date();
  const loadAtStart = load();
  await beginRun();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pi-fleet-'));
  const redis = await startLabRedis();
  let guests: LinuxGuest[] = [];
  let daemon: BenchDaemon | null = null;
  try {
    const passphrase = `CsPass-${randomBytes(12).toString('hex')}`;
    const repo = path.join(workDir, 'repository');
    mkdirSync(repo);
    const installerName = installerFileName(VERSION, TAG);
    copyFileSync(await buildLinuxInstaller(path.join(workDir, 'installer.tar.gz'), VERSION, { padMiB: PAD_MIB }), path.join(repo, installerName));
    const spec: PushSpec = { installer: path.join(repo, installerName), installerName, passphrase, csEndpoint: CS_ENDPOINT, concurrency: CONCURRENCY };
    if (process.argv.includes('--guest-cpu')) {
      guests = await createGuests(1, passphrase);
      for (const [step, ms] of await guestCpuPerStep(guests[0]!, spec.installer)) console.log(`guest CPU, ${step}: ${ms} ms`);
      return;
    }
    const tripsOnly = process.argv.includes('--trips-only');
    const t0 = performance.now();
    guests = await createGuests(tripsOnly ? 1 : GUESTS, passphrase);
    console.log(`${guests.length} guests up in ${((performance.now() - t0) / 1000).toFixed(1)} s (lab instance ${LAB_INSTANCE})`);
    let part: Awaited<ReturnType<typeof daemonPart>> | null = null;
    let copy: Record<string, unknown> = {};
    if (!tripsOnly) {
      const profDir = process.argv.indexOf('--daemon-prof');
      const nodeArgs = profDir >= 0 ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.argv[profDir + 1] ?? 'daemon-prof')}`] : [];
      daemon = await startBenchDaemon({ redisUrl: redis.url, workDir, repositoryDir: repo, passphrase, concurrency: CONCURRENCY, csEndpoint: CS_ENDPOINT, nodeArgs });
      // A second process of the same deployment with the API role only: accepts while the first one pushes.
      const apiOnly = await startBenchDaemon({ redisUrl: redis.url, workDir, repositoryDir: repo, passphrase, concurrency: CONCURRENCY, csEndpoint: CS_ENDPOINT, roles: 'api' });
      try {
        part = await daemonPart({ d: daemon, guests, spec, workDir, apiOnly });
      } finally {
        await apiOnly.stop();
      }
      await daemon.stop();
      daemon = null;
      copy = await copyComparison(guests[0]!, workDir);
    }
    const { commands, ...trips } = await instrumentedPush(guests[0]!, { redisUrl: redis.url, repositoryDir: repo, passphrase, ...(tripsOnly ? {} : { vaultKeyFile: path.join(workDir, 'daemon', 'vault.key') }) });
    const minimalSteps = await minimalPushSteps(guests[0]!, spec, 5, () => resetGuest(guests[0]!));
    console.log(`one push, instrumented: ${JSON.stringify({ ...trips, commands })}; minimal push steps ${JSON.stringify(minimalSteps)}`);
    if (!part) return;
    writeResults({
      benchmark: 'fleet', date: started.toISOString(), node: process.version,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memGiB: round(os.totalmem() / 2 ** 30, 1), kernel: os.release(), loadAtStart, loadAtEnd: load() },
      settings: { guests: GUESTS, concurrency: CONCURRENCY, rounds: ROUNDS, installerMiB: PAD_MIB, labInstance: LAB_INSTANCE },
      ...part, copy, oneLinuxPush: { ...trips, minimalPushStepsMs: minimalSteps },
    });
  } finally {
    await daemon?.stop();
    await Promise.all(guests.map((g) => g.destroy()));
    await redis.stop();
    rmSync(workDir, { recursive: true, force: true });
    await endRun();
  }
}

await main();
