// Follows a set of jobs until every one is final, driven by the API's global event stream (resumed
// with Last-Event-ID by the client, no polling): redrawn in place on a terminal, a line per change
// otherwise. Ctrl-C stops watching only; the jobs keep running.
import { FINAL_STATES, type JobState } from '../domain/job.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { JobEvent, SubmittedJob } from '../client/contract.ts';
import { changeLine, frame, Progress, summaryLine, type Change } from './progress-view.ts';

export interface WatchOptions {
  /** Where the view goes (default stdout); a TTY gets the redrawn frame. */
  output?: NodeJS.WriteStream;
  /** Called once the stream is open, before the jobs are read: e.g. submits them, so no event is missed. */
  start?: () => Promise<SubmittedJob[]>;
  /** Job ids to follow (with `start`: those are followed instead). */
  jobIds?: string[];
}

export interface WatchResult {
  progress: Progress;
  /** Stopped by Ctrl-C before every job was final. */
  interrupted: boolean;
}

/** Follows the jobs to their end (or Ctrl-C); the caller turns the result into an exit code. */
export async function watchJobs(client: ApiClient, options: WatchOptions): Promise<WatchResult> {
  const output = options.output ?? process.stdout;
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => { interrupted = true; controller.abort(); };
  process.once('SIGINT', onSigint);
  const view = new View(output);
  try {
    let opened!: () => void;
    const open = new Promise<void>((r) => { opened = r; });
    const buffered: JobEvent[] = [];
    let handle: (ev: JobEvent) => Promise<void> = async (ev) => { buffered.push(ev); };
    // A stream that dropped before its first event resumes from "now" (it has no cursor yet): after
    // every reopen, the unfinished jobs are read again, so a change in the gap is not lost.
    let opens = 0;
    let resync = async (): Promise<void> => undefined;
    const onOpen = () => { if (++opens === 1) opened(); else void resync().catch(() => undefined); };
    const events = client.events({ signal: controller.signal, onOpen });
    const pump = (async () => { for await (const ev of events) await handle(ev); })();
    await Promise.race([open, pump]);
    if (controller.signal.aborted) return { progress: new Progress([]), interrupted };
    const { progress, changes } = await initial(client, options);
    const apply = async (ev: JobEvent, monotonic: boolean) => {
      if (!progress.has(ev.jobId)) return;
      // A final job is read once, for its error code (the global stream's events carry no errors).
      const changes = ev.kind === 'job' && FINAL_STATES.has(ev.state as JobState) ? progress.fromJob(await client.getJob(ev.jobId)) : progress.apply(ev, monotonic);
      view.changed(progress, changes);
      if (progress.allFinal()) controller.abort();
    };
    resync = async () => {
      for (const row of progress.list().filter((r) => !FINAL_STATES.has(r.state))) view.changed(progress, progress.fromJob(await client.getJob(row.jobId)));
      if (progress.allFinal()) controller.abort();
    };
    view.changed(progress, changes);
    for (const ev of buffered.splice(0)) await apply(ev, true);
    handle = (ev) => apply(ev, false);
    if (progress.allFinal()) controller.abort();
    else await pump;
    return { progress, interrupted: interrupted && !progress.allFinal() };
  } finally {
    controller.abort();
    process.off('SIGINT', onSigint);
    view.close();
  }
}

/** The rows to start from: new jobs as submitted (their every event is still to come), others as read now. */
async function initial(client: ApiClient, options: WatchOptions): Promise<{ progress: Progress; changes: Change[] }> {
  const submitted = options.start ? await options.start() : null;
  const read = await Promise.all((submitted ? submitted.filter((j) => !j.created).map((j) => j.id) : options.jobIds ?? []).map((id) => client.getJob(id)));
  const rows = submitted ? submitted.map((j) => ({ jobId: j.id, machineId: j.machineId })) : read.map((j) => ({ jobId: j.id, machineId: j.machine.machineId }));
  const progress = new Progress(rows.map((r) => ({ ...r, state: 'NotStarted' })));
  for (const job of read) progress.fromJob(job);
  // The first line of each job: where it stands when the watch starts.
  return { progress, changes: progress.list().map((row) => ({ row, state: row.state })) };
}

/** The output side: a frame redrawn in place (with a ticking clock) on a TTY, a line per change otherwise. */
export class View {
  private readonly started = Date.now();
  private readonly tty: boolean;
  private drawn = 0;
  private last: Progress | null = null;
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly output: NodeJS.WriteStream) {
    this.tty = output.isTTY === true;
    this.timer = this.tty ? setInterval(() => { if (this.last) this.draw(this.last); }, 1000) : null;
    this.timer?.unref();
  }

  changed(progress: Progress, changes: Change[]): void {
    this.last = progress;
    if (this.tty) this.draw(progress);
    else for (const c of changes) this.output.write(`${changeLine(c, Date.now() - this.started)}\n`);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.last) return;
    if (this.tty) this.draw(this.last);
    else this.output.write(`${summaryLine(this.last, Date.now() - this.started)}\n`);
  }

  private draw(progress: Progress): void {
    const lines = frame(progress, Date.now() - this.started, { maxLines: (this.output.rows || 24) - 1, columns: this.output.columns || 80, colour: true });
    // Back to the top of the previous frame, clear below, draw the new one.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.output.write(`${up}${lines.map((l) => `${l}\x1b[K`).join('\n')}\n`);
    this.drawn = lines.length;
  }
}
