// The progress of a set of jobs as the CLI shows it, kept apart from any I/O so it can be fed events
// and its frames compared in tests: a model (one row per job: state, current task, first error code)
// and two renderings: a frame redrawn in place on a terminal, a line per change otherwise.
import { FINAL_STATES, JOB_STATES, type JobState } from '../domain/job.ts';
import type { Job, JobEvent } from '../client/contract.ts';
import { EXIT } from './context.ts';

export interface JobRow {
  jobId: string;
  machineId: string;
  state: JobState;
  /** The task that moved last (the current one while the job runs). */
  task?: string;
  taskState?: string;
  /** The code of the job's first error, once known. */
  error?: number;
}

/** One change to print: a job's or a task's new state. */
export interface Change { row: JobRow; task?: string; state: string }

const RANK = (s: JobState): number => (s === 'NotStarted' ? 0 : s === 'InProgress' ? 1 : 2);

export class Progress {
  private readonly rows = new Map<string, JobRow>();

  constructor(rows: JobRow[]) {
    for (const r of rows) this.rows.set(r.jobId, { ...r });
  }

  list(): JobRow[] { return [...this.rows.values()]; }

  has(jobId: string): boolean { return this.rows.has(jobId); }

  allFinal(): boolean { return this.list().every((r) => FINAL_STATES.has(r.state)); }

  /**
   * Applies an event of the stream; `monotonic`: an event that may be older than the job as last read
   * (it arrived before that read) never moves the job back.
   */
  apply(ev: JobEvent, monotonic = false): Change[] {
    const row = this.rows.get(ev.jobId);
    if (!row) return [];
    if (ev.kind === 'task') {
      if (monotonic && FINAL_STATES.has(row.state)) return [];
      if (row.task === ev.task && row.taskState === ev.state) return [];
      row.task = ev.task;
      row.taskState = ev.state;
      return [{ row, task: ev.task as string, state: ev.state }];
    }
    const state = ev.state as JobState;
    if (row.state === state || (monotonic && RANK(state) < RANK(row.state))) return [];
    row.state = state;
    return [{ row, state }];
  }

  /** Takes a job as read from the API (its state, current task and first error). */
  fromJob(job: Job): Change[] {
    const row = this.rows.get(job.id);
    if (!row) return [];
    const changes: Change[] = [];
    // The running task, else the one that failed (a Warning's too), else the last that moved.
    const current = job.tasks.find((t) => t.state === 'InProgress') ?? job.tasks.find((t) => t.state === 'Failed')
      ?? [...job.tasks].reverse().find((t) => t.state !== 'NotStarted' && t.state !== 'Skipped');
    if (current && (row.task !== current.name || row.taskState !== current.state)) {
      Object.assign(row, { task: current.name, taskState: current.state });
      changes.push({ row, task: current.name, state: current.state });
    }
    const error = job.errors[0]?.code ?? job.tasks.flatMap((t) => t.errors)[0]?.code;
    const newError = error !== undefined && row.error !== error;
    if (error !== undefined) row.error = error;
    if (row.state !== job.state || newError) {
      row.state = job.state;
      changes.push({ row, state: job.state });
    }
    return changes;
  }

  counts(): Partial<Record<JobState, number>> {
    const counts: Partial<Record<JobState, number>> = {};
    for (const r of this.rows.values()) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return counts;
  }

  /** 0: every job Succeeded; 1: any Failed or Cancelled; 3: else any Warning; 1 while some are not final. */
  exitCode(): number {
    const c = this.counts();
    if (!this.allFinal() || c.Failed || c.Cancelled) return EXIT.failed;
    return c.Warning ? EXIT.warning : EXIT.ok;
  }
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A change as one plain line (when the output is not a terminal). */
export function changeLine(c: Change, elapsedMs: number): string {
  const what = c.task ? `${c.task} ${c.state}` : `job ${c.state}`;
  const error = !c.task && c.row.error !== undefined ? `  error ${c.row.error}` : '';
  return `+${formatElapsed(elapsedMs)}  ${c.row.machineId}  ${what}${error}`;
}

/** Per-state counts, a bar of final jobs, the elapsed time. */
export function summaryLine(p: Progress, elapsedMs: number, barWidth = 20): string {
  const rows = p.list();
  const counts = p.counts();
  const final = rows.filter((r) => FINAL_STATES.has(r.state)).length;
  const filled = rows.length === 0 ? barWidth : Math.round((final / rows.length) * barWidth);
  const parts = JOB_STATES.filter((s) => counts[s]).map((s) => `${s} ${counts[s]}`);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${final}/${rows.length} final · ${parts.join(' · ')} · ${formatElapsed(elapsedMs)}`;
}

const COLOURS: Partial<Record<JobState, string>> = { Succeeded: '\x1b[32m', Warning: '\x1b[33m', Failed: '\x1b[31m', Cancelled: '\x1b[35m' };

/**
 * The terminal frame: a line per job (machine, state, current task, error code) and the summary line.
 * With more jobs than `maxLines - 1`, the unfinished ones come first and the rest is counted; lines are
 * cut at `columns` (a wrapped line would throw the redraw off).
 */
export function frame(p: Progress, elapsedMs: number, opts: { maxLines?: number; columns?: number; colour?: boolean } = {}): string[] {
  let rows = p.list();
  const max = Math.max(2, opts.maxLines ?? Infinity) - 1;
  let hidden = 0;
  if (rows.length > max) {
    rows = [...rows.filter((r) => !FINAL_STATES.has(r.state)), ...rows.filter((r) => FINAL_STATES.has(r.state))];
    hidden = rows.length - (max - 1);
    rows = rows.slice(0, max - 1);
  }
  const cut = (line: string) => (opts.columns && line.length > opts.columns ? `${line.slice(0, opts.columns - 1)}…` : line);
  const idWidth = Math.max(...rows.map((r) => r.machineId.length), 7);
  const taskWidth = Math.max(...rows.map((r) => (r.task ? r.task.length + (r.taskState ? r.taskState.length + 1 : 0) : 1)), 4);
  const lines = rows.map((r) => {
    const task = r.task ? `${r.task} ${r.taskState ?? ''}`.trim() : '-';
    const line = cut(`${r.machineId.padEnd(idWidth)}  ${r.state.padEnd(10)}  ${task.padEnd(taskWidth)}${r.error !== undefined ? `  error ${r.error}` : ''}`.trimEnd());
    const colour = opts.colour ? COLOURS[r.state] : undefined;
    const at = idWidth + 2;
    return colour && line.length >= at + 10 ? `${line.slice(0, at)}${colour}${line.slice(at, at + 10)}\x1b[0m${line.slice(at + 10)}` : line;
  });
  if (hidden > 0) lines.push(`… and ${hidden} more`);
  lines.push(cut(summaryLine(p, elapsedMs)));
  return lines;
}
