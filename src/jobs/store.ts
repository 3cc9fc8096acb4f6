import type { Redis } from 'ioredis';
import { redactor } from '../logging/redactor.ts';
import { FINAL_STATES, isFinal, type JobRecord, type JobState, type JobType } from '../domain/job.ts';
import type { JobEvent } from './types.ts';

/**
 * The durable job record, independent of BullMQ's retention. Each job is a hash (`data` JSON + `rev`);
 * every change is a compare-and-set that also appends the state changes it makes to the job's own event
 * stream and to the global stream, atomically, so the change log (SSE) can never miss or invent a change.
 */
const K = {
  job: (id: string) => `pi:job:${id}`,
  jobEvents: (id: string) => `pi:job:${id}:events`,
  jobLog: (id: string) => `pi:job:${id}:log`,
  active: (type: string, machineId: string) => `pi:active:${type}:${machineId}`,
  accountJobs: (accountId: string) => `pi:account-jobs:${accountId}`,
  index: 'pi:jobs',
  /** Final jobs by when they ended (ms): what the retention sweep reads. */
  ended: 'pi:jobs:ended',
  endedIndexed: 'pi:jobs:ended:indexed',
  seq: 'pi:jobs:seq',
  events: 'pi:events',
};

const GLOBAL_EVENTS_MAXLEN = 200_000;
const JOB_LOG_MAX_LINES = 5000;

// KEYS: job, index, seq, events, jobEvents, active, accountJobs   ARGV: json, jobId, maxlen, then events (4 fields each)
const CREATE_SCRIPT = `
local existing = redis.call('GET', KEYS[6])
if existing then
  local st = redis.call('HGET', 'pi:job:' .. existing, 'state')
  if st == 'NotStarted' or st == 'InProgress' then return {0, existing} end
end
redis.call('SET', KEYS[6], ARGV[2])
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'rev', '0', 'state', 'NotStarted', 'seq', seq)
redis.call('HINCRBY', 'pi:stats:jobs-by-state', 'NotStarted', 1)
redis.call('ZADD', KEYS[2], seq, ARGV[2])
redis.call('SADD', KEYS[7], ARGV[2])
local n = (#ARGV - 3) / 4
local cursor = ''
for i = 0, n - 1 do
  local b = 4 + i * 4
  cursor = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'jobId', ARGV[2], 'kind', ARGV[b], 'state', ARGV[b+1], 'task', ARGV[b+2], 'at', ARGV[b+3])
  redis.call('XADD', KEYS[5], cursor, 'jobId', ARGV[2], 'kind', ARGV[b], 'state', ARGV[b+1], 'task', ARGV[b+2], 'at', ARGV[b+3])
end
return {1, ARGV[2]}
`;

// KEYS: job, events, jobEvents, active, accountJobs, ended   ARGV: expectedRev, json, jobId, state, final, maxlen, nowMs, then events
const UPDATE_SCRIPT = `
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then return -1 end
if rev ~= ARGV[1] then return 0 end
local old = redis.call('HGET', KEYS[1], 'state')
if old ~= ARGV[4] then
  redis.call('HINCRBY', 'pi:stats:jobs-by-state', old, -1)
  redis.call('HINCRBY', 'pi:stats:jobs-by-state', ARGV[4], 1)
end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'rev', tostring(tonumber(rev) + 1), 'state', ARGV[4])
if ARGV[5] == '1' then
  if redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
  redis.call('SREM', KEYS[5], ARGV[3])
  redis.call('ZADD', KEYS[6], 'NX', ARGV[7], ARGV[3])
end
local n = (#ARGV - 7) / 4
for i = 0, n - 1 do
  local b = 8 + i * 4
  local cursor = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'jobId', ARGV[3], 'kind', ARGV[b], 'state', ARGV[b+1], 'task', ARGV[b+2], 'at', ARGV[b+3])
  redis.call('XADD', KEYS[3], cursor, 'jobId', ARGV[3], 'kind', ARGV[b], 'state', ARGV[b+1], 'task', ARGV[b+2], 'at', ARGV[b+3])
end
return 1
`;

// KEYS: ended, index, events   ARGV: cutoffMs, batch. Removes up to `batch` jobs that ended before the cutoff
// (re-checking each is final: an active job is never removed) and the global events older than it.
const EXPIRE_SCRIPT = `
local final = {${[...FINAL_STATES].map((st) => `${st} = true`).join(', ')}}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local removed = 0
for _, id in ipairs(ids) do
  local key = 'pi:job:' .. id
  local st = redis.call('HGET', key, 'state')
  if st and final[st] then
    redis.call('HINCRBY', 'pi:stats:jobs-by-state', st, -1)
    redis.call('DEL', key, key .. ':events', key .. ':log')
    redis.call('ZREM', KEYS[2], id)
    removed = removed + 1
  elseif not st then
    redis.call('ZREM', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[1], id)
end
redis.call('XTRIM', KEYS[3], 'MINID', ARGV[1])
return {removed, #ids}
`;

interface PendingEvent { kind: 'job' | 'task'; state: string; task: string; at: string }

function diffEvents(before: JobRecord | null, after: JobRecord): PendingEvent[] {
  const at = new Date().toISOString();
  const events: PendingEvent[] = [];
  for (const task of after.tasks) {
    const prev = before?.tasks.find((t) => t.name === task.name);
    if (!prev || prev.state !== task.state) events.push({ kind: 'task', state: task.state, task: task.name, at });
  }
  if (!before || before.state !== after.state) events.push({ kind: 'job', state: after.state, task: '', at });
  if (before && !before.cancelRequested && after.cancelRequested) events.push({ kind: 'job', state: 'CancelRequested', task: '', at });
  return events;
}

function flatten(events: PendingEvent[]): string[] {
  return events.flatMap((e) => [e.kind, e.state, e.task, e.at]);
}

export interface ListFilter {
  state?: JobState;
  type?: JobType;
  machineId?: string;
  processServerId?: string;
  since?: string;
}

export class JobConflictError extends Error {}

export class JobStore {
  private readonly shas = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    /** Told of every stored change (metrics). */
    private readonly onChange: (before: JobRecord, after: JobRecord) => void = () => undefined,
  ) {}

  /** Creates the job unless the machine has an active job of that type; then returns that job's id. */
  async create(job: JobRecord): Promise<{ created: boolean; id: string }> {
    return (await this.createMany([job]))[0] as { created: boolean; id: string };
  }

  /**
   * Creates many jobs in one pipelined step: the create script once per record, in order, each one
   * creating its record (and dedup entry and first events) atomically unless the machine already has an
   * active job of that type. Results follow the order of `jobs`. A pipeline is not a transaction: when
   * the connection drops half-way, the records already created stay, active and without a queue entry,
   * which the worker's orphan re-queue takes up (see JobService.submit).
   */
  async createMany(jobs: JobRecord[]): Promise<Array<{ created: boolean; id: string }>> {
    const results: Array<{ created: boolean; id: string } | undefined> = new Array(jobs.length);
    let pending = jobs.map((_, i) => i);
    // The script goes by its SHA-1 (not its text a thousand times); one that Redis no longer knows
    // (restarted, SCRIPT FLUSH) is loaded again and only the records it refused are sent again.
    for (let attempt = 0; pending.length > 0; attempt++) {
      const sha = await this.scriptSha(CREATE_SCRIPT, attempt > 0);
      const pipe = this.redis.pipeline();
      for (const i of pending) {
        const job = jobs[i] as JobRecord;
        pipe.evalsha(
          sha, 7,
          K.job(job.id), K.index, K.seq, K.events, K.jobEvents(job.id), K.active(job.type, job.machine.machineId),
          K.accountJobs(job.runAsAccountId),
          JSON.stringify(job), job.id, String(GLOBAL_EVENTS_MAXLEN), ...flatten(diffEvents(null, job)),
        );
      }
      const rows = (await pipe.exec()) ?? [];
      const refused: number[] = [];
      pending.forEach((i, n) => {
        const [err, res] = rows[n] ?? [new Error('no reply from Redis'), null];
        if (err && /NOSCRIPT/.test(err.message) && attempt === 0) { refused.push(i); return; }
        if (err) throw err;
        const [created, id] = res as [number, string];
        results[i] = { created: created === 1, id };
      });
      pending = refused;
    }
    return results as Array<{ created: boolean; id: string }>;
  }

  /** A script's SHA-1, loaded once per store (again when Redis has forgotten it: restarted, SCRIPT FLUSH). */
  private async scriptSha(script: string, reload = false): Promise<string> {
    let sha = this.shas.get(script);
    if (reload || sha === undefined) {
      sha = (await this.redis.script('LOAD', script)) as string;
      this.shas.set(script, sha);
    }
    return sha;
  }

  /** EVALSHA, loading the script when Redis does not know it. */
  private async evalScript(script: string, numKeys: number, ...args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(await this.scriptSha(script), numKeys, ...args);
    } catch (e) {
      if (!/NOSCRIPT/.test((e as Error).message)) throw e;
      return this.redis.evalsha(await this.scriptSha(script, true), numKeys, ...args);
    }
  }

  async get(id: string): Promise<JobRecord | null> {
    const [data, rev] = await this.redis.hmget(K.job(id), 'data', 'rev');
    if (data === null || data === undefined) return null;
    const job = JSON.parse(data) as JobRecord;
    job.rev = Number(rev);
    return job;
  }

  /**
   * Applies `mutate` to the current record with optimistic concurrency (retried on conflict). `mutate`
   * returns false to leave the record unchanged. Returns the record as stored afterwards. `known`: the
   * record as the caller last got it from the store (the compare-and-set checks its rev).
   */
  async update(id: string, mutate: (job: JobRecord) => boolean | void, known?: JobRecord): Promise<JobRecord> {
    for (let attempt = 0; attempt < 50; attempt++) {
      // A caller that holds the record as last stored saves the read; a stale one only costs a retry.
      const current = attempt === 0 && known ? known : await this.get(id);
      if (!current) throw new Error(`job ${id} does not exist`);
      const next = structuredClone(current);
      if (mutate(next) === false) return current;
      const events = diffEvents(current, next);
      const res = (await this.evalScript(
        UPDATE_SCRIPT, 6,
        K.job(id), K.events, K.jobEvents(id), K.active(next.type, next.machine.machineId), K.accountJobs(next.runAsAccountId), K.ended,
        String(current.rev), JSON.stringify({ ...next, rev: undefined }), id, next.state, isFinal(next.state) ? '1' : '0',
        String(GLOBAL_EVENTS_MAXLEN), String(Date.now()), ...flatten(events),
      )) as number;
      if (res === 1) { next.rev = current.rev + 1; this.onChange(current, next); return next; }
      if (res === -1) throw new Error(`job ${id} does not exist`);
    }
    throw new JobConflictError(`job ${id} is being changed concurrently; gave up after 50 attempts`);
  }

  /** Newest first. `cursor` is opaque (the sequence number of the last job returned). */
  async list(filter: ListFilter, limit: number, cursor?: string): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    const out: JobRecord[] = [];
    let max = cursor ? `(${Number(cursor)}` : '+inf';
    const sinceMs = filter.since ? Date.parse(filter.since) : undefined;
    const batch = Math.max(limit * 2, 100);
    let lastSeq: string | null = null;
    while (out.length < limit) {
      const ids = await this.redis.zrevrangebyscore(K.index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (ids.length === 0) return { jobs: out, nextCursor: null };
      const pipe = this.redis.pipeline();
      for (let i = 0; i < ids.length; i += 2) pipe.hmget(K.job(ids[i] as string), 'data', 'rev');
      const rows = (await pipe.exec()) ?? [];
      for (let i = 0; i < rows.length; i++) {
        const seq = ids[i * 2 + 1] as string;
        const [err, value] = rows[i] as [Error | null, [string | null, string | null]];
        max = `(${seq}`;
        if (err || !value[0]) continue;
        const job = JSON.parse(value[0]) as JobRecord;
        job.rev = Number(value[1]);
        if (sinceMs !== undefined && Date.parse(job.createdAt) < sinceMs) return { jobs: out, nextCursor: null };
        if (filter.state && job.state !== filter.state) continue;
        if (filter.type && job.type !== filter.type) continue;
        if (filter.machineId && job.machine.machineId !== filter.machineId) continue;
        if (filter.processServerId && job.processServerId !== filter.processServerId) continue;
        out.push(job);
        lastSeq = seq;
        if (out.length === limit) break;
      }
      if (ids.length < batch * 2 && out.length < limit) return { jobs: out, nextCursor: null };
    }
    return { jobs: out, nextCursor: lastSeq };
  }

  /** Appends a (redacted) line to the job's log. */
  async appendLog(id: string, line: string): Promise<void> {
    await this.appendLogs(id, [{ at: new Date(), line }]);
  }

  /** Appends (redacted) lines, each stamped with the time it was logged, in one step. */
  async appendLogs(id: string, lines: ReadonlyArray<{ at: Date; line: string }>): Promise<void> {
    if (lines.length === 0) return;
    const texts = lines.map((l) => `${l.at.toISOString()} ${redactor.redact(l.line)}`);
    // A pipeline, not a transaction: the trim only caps the list, whenever it runs.
    await this.redis.pipeline().rpush(K.jobLog(id), ...texts).ltrim(K.jobLog(id), -JOB_LOG_MAX_LINES, -1).exec();
  }

  async log(id: string): Promise<string[]> {
    return this.redis.lrange(K.jobLog(id), 0, -1);
  }

  /** Events after `after` (exclusive; '0' or '' = from the start) for one job or for all. */
  async events(opts: { jobId?: string; after?: string; count?: number; blockMs?: number }, conn: Redis = this.redis): Promise<JobEvent[]> {
    const key = opts.jobId ? K.jobEvents(opts.jobId) : K.events;
    const after = opts.after && opts.after !== '' ? opts.after : '0';
    const args: (string | number)[] = ['COUNT', opts.count ?? 500];
    if (opts.blockMs !== undefined) args.push('BLOCK', opts.blockMs);
    const res = (await (conn.xread as (...a: unknown[]) => Promise<unknown>)(...args, 'STREAMS', key, after)) as
      | Array<[string, Array<[string, string[]]>]>
      | null;
    if (!res || res.length === 0) return [];
    return (res[0]?.[1] ?? []).map(([cursor, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
      const ev: JobEvent = { cursor, jobId: f.jobId ?? '', kind: f.kind === 'task' ? 'task' : 'job', state: f.state ?? '', at: f.at ?? '' };
      if (f.task) ev.task = f.task;
      return ev;
    });
  }

  /** The current end of the global change log (so a client can start "from now"). */
  async lastEventCursor(): Promise<string> {
    const res = (await this.redis.xrevrange(K.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    return res[0]?.[0] ?? '0-0';
  }

  /** How many job records are in each state (kept by the create/update scripts). */
  async countsByState(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall('pi:stats:jobs-by-state');
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /** Ids of every queued or running job (from the one-active-job-per-machine index). */
  async activeJobIds(): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', 'pi:active:*', 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) ids.push(...((await this.redis.mget(...keys)).filter((v): v is string => v !== null)));
    } while (cursor !== '0');
    return ids;
  }

  /**
   * Removes jobs that ended before `cutoffMs` (record, event stream, log, index entries, counts) and the
   * global change-log entries older than it, `batch` jobs per call. Returns how many jobs were removed and
   * whether more may remain.
   */
  async expireEndedBefore(cutoffMs: number, batch = 500): Promise<{ removed: number; more: boolean }> {
    const [removed, seen] = (await this.redis.eval(EXPIRE_SCRIPT, 3, K.ended, K.index, K.events, String(Math.floor(cutoffMs)), String(batch))) as [number, number];
    return { removed, more: seen === batch };
  }

  /**
   * Once per Redis: puts the jobs that ended before the ended index existed (an upgrade) into it, by their
   * endedAt, so the retention sweep sees them too.
   */
  async indexEndedJobsOnce(): Promise<number> {
    if ((await this.redis.set(K.endedIndexed, '1', 'NX')) !== 'OK') return 0;
    let added = 0;
    let min = '-inf';
    for (;;) {
      const ids = await this.redis.zrangebyscore(K.index, min, '+inf', 'WITHSCORES', 'LIMIT', 0, 500);
      if (ids.length === 0) return added;
      const pipe = this.redis.pipeline();
      for (let i = 0; i < ids.length; i += 2) pipe.hmget(K.job(ids[i] as string), 'state', 'data');
      const rows = (await pipe.exec()) ?? [];
      const adds: string[] = [];
      rows.forEach(([, value], i) => {
        const [state, data] = value as [string | null, string | null];
        if (!state || !data || !isFinal(state as JobState)) return;
        const job = JSON.parse(data) as JobRecord;
        adds.push(String(Date.parse(job.endedAt ?? job.createdAt) || Date.now()), ids[i * 2] as string);
      });
      if (adds.length > 0) added += await this.redis.zadd(K.ended, 'NX', ...adds);
      min = `(${ids[ids.length - 1] as string}`;
    }
  }

  /** Queued or running jobs that use the run-as account. */
  async activeJobIdsUsingAccount(accountId: string): Promise<string[]> {
    return this.redis.smembers(K.accountJobs(accountId));
  }
}
