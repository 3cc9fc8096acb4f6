import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { FINAL_STATES, isFinal, type JobRecord, type TaskState } from '../domain/job.ts';

// Pushes take seconds to an hour: buckets from 1 s to 2 h; tasks and queue waits start lower.
const JOB_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const TASK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([...FINAL_STATES, 'Skipped']);

function seconds(from: string | undefined, to: string | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

/**
 * The daemon's Prometheus registry (default process metrics included) and the job metrics, observed
 * where job records change: `changed` gets every stored change (JobStore), `copied` every finished copy
 * (the worker's job context). Counters live in the process that made the change, so a daemon running
 * both roles counts everything; see the README for separate api and worker processes.
 */
export class JobMetrics {
  readonly registry = new Registry();
  private readonly jobDuration: Histogram<'type' | 'os_family' | 'outcome'>;
  private readonly taskDuration: Histogram<'task' | 'type' | 'os_family' | 'outcome'>;
  private readonly jobsFinished: Counter<'type' | 'os_family' | 'state'>;
  private readonly jobErrors: Counter<'code' | 'type' | 'os_family'>;
  private readonly queueWait: Histogram<'type' | 'process_server'>;
  private readonly copyBytes: Counter<'os_family'>;
  private readonly copySeconds: Counter<'os_family'>;

  constructor() {
    const registers = [this.registry];
    // Standard names (process_*, nodejs_*), as every Node.js dashboard expects them.
    collectDefaultMetrics({ register: this.registry });
    this.jobDuration = new Histogram({
      name: 'pushinstalld_job_duration_seconds', help: 'Time from a job\'s start to its final state, by job type, OS family and outcome (final state).',
      labelNames: ['type', 'os_family', 'outcome'], buckets: JOB_BUCKETS, registers,
    });
    this.taskDuration = new Histogram({
      name: 'pushinstalld_task_duration_seconds', help: 'Time each task took, by task, job type, OS family and outcome (the task\'s final state).',
      labelNames: ['task', 'type', 'os_family', 'outcome'], buckets: TASK_BUCKETS, registers,
    });
    this.jobsFinished = new Counter({
      name: 'pushinstalld_jobs_finished_total', help: 'Jobs that reached a final state, by job type, OS family and state.',
      labelNames: ['type', 'os_family', 'state'], registers,
    });
    this.jobErrors = new Counter({
      name: 'pushinstalld_job_errors_total', help: 'Errors and warnings of finished jobs, by error code, job type and OS family.',
      labelNames: ['code', 'type', 'os_family'], registers,
    });
    this.queueWait = new Histogram({
      name: 'pushinstalld_job_queue_wait_seconds', help: 'Time from a job\'s creation to its first start, by job type and process server.',
      labelNames: ['type', 'process_server'], buckets: TASK_BUCKETS, registers,
    });
    this.copyBytes = new Counter({ name: 'pushinstalld_copy_bytes_total', help: 'Installer bytes copied to machines, by OS family.', labelNames: ['os_family'], registers });
    this.copySeconds = new Counter({
      name: 'pushinstalld_copy_seconds_total', help: 'Time spent copying installers to machines, by OS family (throughput: rate of bytes over rate of seconds).',
      labelNames: ['os_family'], registers,
    });
  }

  /** One stored change of a job record (before: as read, after: as written). */
  changed(before: JobRecord, after: JobRecord): void {
    const type = after.type;
    const osFamily = after.machine.os.family;
    if (!before.startedAt && after.startedAt) {
      const wait = seconds(after.createdAt, after.startedAt);
      if (wait !== null) this.queueWait.observe({ type, process_server: after.processServerId }, wait);
    }
    for (const task of after.tasks) {
      const prev = before.tasks.find((t) => t.name === task.name);
      if (!FINAL_TASK_STATES.has(task.state) || prev?.state === task.state) continue;
      const took = seconds(task.startedAt, task.endedAt);
      if (took !== null) this.taskDuration.observe({ task: task.name, type, os_family: osFamily, outcome: task.state }, took);
    }
    if (isFinal(before.state) || !isFinal(after.state)) return;
    this.jobsFinished.inc({ type, os_family: osFamily, state: after.state });
    const took = seconds(after.startedAt, after.endedAt);
    if (took !== null) this.jobDuration.observe({ type, os_family: osFamily, outcome: after.state }, took);
    for (const e of after.errors) this.jobErrors.inc({ code: String(e.code), type, os_family: osFamily });
  }

  /** A finished copy of an installer to a machine. */
  copied(job: JobRecord, bytes: number, secondsTaken: number): void {
    this.copyBytes.inc({ os_family: job.machine.os.family }, bytes);
    this.copySeconds.inc({ os_family: job.machine.os.family }, secondsTaken);
  }
}
