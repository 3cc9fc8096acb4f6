import { isFinal, type JobRecord } from '../domain/job.ts';

/** What the API shows of a job (api.md). */
export interface JobView extends Omit<JobRecord, 'request' | 'rev' | 'cancelRequested'> {
  allowedActions: Array<'Cancel' | 'Restart'>;
  cancelRequested?: boolean;
}

export function toView(job: JobRecord): JobView {
  const { request: _request, rev: _rev, cancelRequested, ...rest } = job;
  const allowedActions: JobView['allowedActions'] = isFinal(job.state) ? ['Restart'] : cancelRequested ? [] : ['Cancel'];
  const view: JobView = { ...rest, allowedActions };
  if (cancelRequested && !isFinal(job.state)) view.cancelRequested = true;
  return view;
}

/** One entry of the change log (SSE events). */
export interface JobEvent {
  /** Stream cursor (Redis stream id). */
  cursor: string;
  jobId: string;
  kind: 'job' | 'task';
  state: string;
  task?: string;
  at: string;
}
