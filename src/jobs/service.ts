import type { Redis } from 'ioredis';
import type { RunAsAccount } from '../accounts/account.ts';
import type { AccountStore } from '../accounts/accounts.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/validation-error.ts';
import { isValidAddress } from '../domain/address.ts';
import { isFinal, type JobRecord, type JobType, type MachineRequest } from '../domain/job.ts';
import { isSafeAbsolutePath, isSafeWindowsPath } from '../domain/paths.ts';
import { osTagInfo } from '../repository/os-tags.ts';
import { publishCancel } from './cancel-channel.ts';
import { guestLease } from './leases.ts';
import type { ProcessServerRegistry } from './process-servers.ts';
import type { Queues } from './queues.ts';
import type { JobStore, ListFilter } from './store.ts';
import { cancelJob, newJob, requestCancel } from './transitions.ts';
import type { JobEvent } from './types.ts';

export interface SubmitResult {
  id: string;
  machineId: string;
  state: JobRecord['state'];
  /** False when the machine already had an active job of this type (that job is returned). */
  created: boolean;
}

/** Records stored (and then queued) per step of a submit: big enough to amortise a round trip, small enough to overlap. */
const SUBMIT_CHUNK = 250;

/** Submits, reads, cancels and restarts jobs; what the API calls (the API knows nothing of BullMQ). */
export class JobService {
  constructor(
    private readonly deps: {
      redis: Redis;
      store: JobStore;
      queues: Queues;
      accounts: AccountStore;
      processServers: ProcessServerRegistry;
      defaultProcessServerId: string;
    },
  ) {}

  /**
   * Validates every machine first, so a bad entry rejects the whole request and nothing is half-submitted;
   * then stores the records and queues the new ones, SUBMIT_CHUNK at a time: a chunk's records in one
   * pipelined step, then its queue entries in one step per process server, sent while the next chunk's
   * records are stored (the store and the queues use different Redis connections, so the two overlap).
   */
  async submit(type: JobType, machines: MachineRequest[], options: { restartOf?: string } = {}): Promise<SubmitResult[]> {
    await this.validate(machines);
    const records = machines.map((m) => newJob({ type, machine: m, processServerId: m.processServerId ?? this.deps.defaultProcessServerId, restartOf: options.restartOf }));
    // Records first, queue entries second, never the other way round: when Redis drops in between (or
    // half-way through a pipeline), the records stored so far are active and have no queue entry; the
    // worker's orphan re-queue (PushWorker.requeueOrphans, every 60 s, for records older than 30 s)
    // queues them, and a client that retries the request gets those jobs back (created: false).
    const stored: Array<{ created: boolean; id: string }> = [];
    const queued: Array<Promise<void>> = [];
    let failure: { error: unknown } | undefined;
    for (let at = 0; at < records.length && !failure; at += SUBMIT_CHUNK) {
      const chunk = records.slice(at, at + SUBMIT_CHUNK);
      try {
        const res = await this.deps.store.createMany(chunk);
        stored.push(...res);
        queued.push(this.enqueueCreated(chunk, res));
      } catch (error) {
        failure = { error };
      }
    }
    // Every queue step started is waited for, whatever happened to a later chunk (none goes unobserved).
    const queueFailure = (await Promise.allSettled(queued)).find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.error;
    if (queueFailure) throw queueFailure.reason;
    return Promise.all(stored.map(async (res, i) => {
      const machineId = (machines[i] as MachineRequest).machineId;
      if (res.created) return { id: res.id, machineId, state: 'NotStarted' as const, created: true };
      const existing = await this.deps.store.get(res.id);
      return { id: res.id, machineId, state: existing?.state ?? 'NotStarted', created: false };
    }));
  }

  /** Queues the records `stored` says were created (not those of machines that already had an active job). */
  private async enqueueCreated(records: JobRecord[], stored: Array<{ created: boolean; id: string }>): Promise<void> {
    const fresh = new Map<string, string[]>();
    for (const [i, res] of stored.entries()) {
      if (!res.created) continue;
      const ps = (records[i] as JobRecord).processServerId;
      fresh.set(ps, [...(fresh.get(ps) ?? []), res.id]);
    }
    await Promise.all([...fresh].map(([ps, ids]) => this.deps.queues.enqueueMany(ps, ids)));
  }

  /** Every check of a request, in machine order; each distinct account and process server is looked up once. */
  private async validate(machines: MachineRequest[]): Promise<void> {
    const accountIds = [...new Set(machines.map((m) => m.runAsAccountId))];
    const psIds = [...new Set(machines.map((m) => m.processServerId ?? this.deps.defaultProcessServerId))];
    const [accounts, knownPs] = await Promise.all([
      Promise.all(accountIds.map(async (id) => [id, await this.deps.accounts.find(id)] as const)).then((e) => new Map(e)),
      Promise.all(psIds.map(async (id) => [id, await this.deps.processServers.known(id)] as const)).then((e) => new Map(e)),
    ]);
    const seen = new Set<string>();
    for (const [i, m] of machines.entries()) {
      const at = `machines[${i}]`;
      if (seen.has(m.machineId)) throw new ValidationError(`${at}.machineId`, `"${m.machineId}" appears more than once in the request`);
      seen.add(m.machineId);
      if (!isValidAddress(m.address)) throw new ValidationError(`${at}.address`, 'must be an IPv4 or IPv6 address or a DNS name');
      checkAccount(m, accounts.get(m.runAsAccountId), at);
      checkMachineOptions(m, at);
      await this.checkProcessServer(m.processServerId ?? this.deps.defaultProcessServerId, at, knownPs);
    }
  }

  /** `known`: the registry's answers for this request's process servers. */
  private async checkProcessServer(ps: string, at: string, known: Map<string, boolean>): Promise<void> {
    if (known.get(ps)) return;
    const ids = (await this.deps.processServers.list()).map((p) => p.id);
    throw new ValidationError(`${at}.processServerId`, `"${ps}" is not a known process server (known: ${ids.join(', ') || 'none yet'})`);
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.deps.store.get(id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  }

  // Reads for the API (it never touches the store itself).

  /** A job when it exists, else null (for the event streams, which skip vanished jobs). */
  find(id: string): Promise<JobRecord | null> {
    return this.deps.store.get(id);
  }

  /** Newest first, with an opaque cursor for the next page. */
  list(filter: ListFilter, limit: number, cursor?: string): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    return this.deps.store.list(filter, limit, cursor);
  }

  /** The job's (redacted) log lines; 404 when the job does not exist. */
  async log(id: string): Promise<string[]> {
    await this.get(id);
    return this.deps.store.log(id);
  }

  /** Change events after a cursor, for one job or all (SSE); `conn` is a blocking connection of the caller's. */
  events(opts: { jobId?: string; after?: string; count?: number; blockMs?: number }, conn?: Redis): Promise<JobEvent[]> {
    return this.deps.store.events(opts, conn);
  }

  /** The current end of the global change log. */
  lastEventCursor(): Promise<string> {
    return this.deps.store.lastEventCursor();
  }

  /** How many job records are in each state. */
  countsByState(): Promise<Record<string, number>> {
    return this.deps.store.countsByState();
  }

  /**
   * Cancels a job: a queued (or retry-delayed) job is removed from its queue and ends Cancelled at once;
   * a running one is told to abort through the `pi:cancel` channel and ends Cancelled after clean-up.
   */
  async cancel(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    if (isFinal(job.state)) throw new ConflictError(`job ${id} has already ended (${job.state})`);
    await this.deps.store.update(id, requestCancel);
    if (await this.deps.queues.removeIfIdle(job.processServerId, id)) {
      // A guest lease an earlier, handed-back attempt kept is given back: this job runs nothing more.
      await guestLease(this.deps.redis, job.machine.address).release(id);
      return this.deps.store.update(id, (j) => cancelJob(j));
    }
    await publishCancel(this.deps.redis, id);
    return this.get(id);
  }

  /** A new job for the same machine and type (the old one must have ended). */
  async restart(id: string): Promise<SubmitResult> {
    const job = await this.get(id);
    if (!isFinal(job.state)) throw new ConflictError(`job ${id} is still ${job.state}; cancel it first`);
    const [res] = await this.submit(job.type, [job.request], { restartOf: id });
    return res as SubmitResult;
  }
}

function checkAccount(m: MachineRequest, account: RunAsAccount | null | undefined, at: string): void {
  if (!account) throw new ValidationError(`${at}.runAsAccountId`, `run-as account ${m.runAsAccountId} does not exist`);
  if (account.osFamily !== m.os.family) {
    throw new ValidationError(`${at}.runAsAccountId`, `run-as account "${account.name}" is a ${account.osFamily} account but the machine is ${m.os.family}`);
  }
}

/** The per-OS options of a machine: OS tag, Windows transport, SMB port, install location. */
function checkMachineOptions(m: MachineRequest, at: string): void {
  if (m.os.tag !== undefined) {
    const info = osTagInfo(m.os.tag);
    if (!info) throw new ValidationError(`${at}.os.tag`, `"${m.os.tag}" is not an OS tag of the repository (see GET /api/v1/repository/os-support)`);
    if (info.platform !== m.os.family) throw new ValidationError(`${at}.os.tag`, `${info.tag} is a ${info.platform} tag but os.family is ${m.os.family}`);
  }
  if (m.os.family === 'linux' && m.windowsTransport !== undefined) throw new ValidationError(`${at}.windowsTransport`, 'applies to Windows machines only');
  if (m.smbPort !== undefined && (m.os.family !== 'windows' || m.windowsTransport === 'ssh')) {
    throw new ValidationError(`${at}.smbPort`, 'applies to Windows machines reached over SMB and WinRM only');
  }
  if (m.installLocation !== undefined) {
    const ok = m.os.family === 'linux' ? isSafeAbsolutePath(m.installLocation) : isSafeWindowsPath(m.installLocation);
    if (!ok) throw new ValidationError(`${at}.installLocation`, m.os.family === 'linux'
      ? 'must be an absolute path of letters, digits and . _ + - (no spaces, no ..)'
      : 'must be an absolute Windows path such as C:\\Program Files (x86)\\Microsoft Azure Site Recovery');
  }
}
