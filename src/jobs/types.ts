import type { JobError } from '../errors/push-error.ts';

export type { JobError };

export const JOB_STATES = ['NotStarted', 'InProgress', 'Succeeded', 'Warning', 'Failed', 'Cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TaskState = JobState | 'Skipped';
export const FINAL_STATES: ReadonlySet<JobState> = new Set(['Succeeded', 'Warning', 'Failed', 'Cancelled']);

export const JOB_TYPES = ['enable-replication', 'update-agent', 'uninstall-agent', 'install-vss-provider', 'readiness-check'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export type OsFamily = 'windows' | 'linux';
export type WindowsTransport = 'winrm-http' | 'winrm-https' | 'ssh';
export type HostKeyPolicy = 'tofu' | 'strict' | 'off';

/** One machine of a submit request (api.md `Machine`). */
export interface MachineRequest {
  machineId: string;
  displayName?: string;
  address: string;
  os: { family: OsFamily; name?: string; tag?: string };
  runAsAccountId: string;
  processServerId?: string;
  port?: number;
  /** SMB port of a Windows machine (default 445), e.g. behind port forwarding. */
  smbPort?: number;
  windowsTransport?: WindowsTransport;
  installLocation?: string;
  hostKeyPolicy?: HostKeyPolicy;
}

export interface Task {
  name: string;
  state: TaskState;
  startedAt?: string;
  endedAt?: string;
  /** Why a task was skipped or what it found (e.g. "copy skipped: same SHA-256 already on the guest"). */
  message?: string;
  errors: JobError[];
}

export interface JobRecord {
  id: string;
  type: JobType;
  machine: { machineId: string; displayName: string; address: string; os: MachineRequest['os'] };
  processServerId: string;
  runAsAccountId: string;
  state: JobState;
  agentVersion?: string;
  installer?: { file: string; sha256: string };
  tasks: Task[];
  errors: JobError[];
  attempts: number;
  /** One entry per attempt: when it ran and, for a failed attempt that was retried, why. */
  attemptLog?: Array<{ attempt: number; startedAt: string; endedAt?: string; error?: JobError; retryAt?: string; processServerId: string; worker: string }>;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Set when cancel was requested and the job has not ended yet. */
  cancelRequested?: boolean;
  /** The job this one restarts, if any. */
  restartOf?: string;
  /** The machine as submitted (transport options included), for the worker and restarts. */
  request: MachineRequest;
  /** Internal optimistic-concurrency revision. */
  rev: number;
}

/** What the API shows of a job (api.md). */
export interface JobView extends Omit<JobRecord, 'request' | 'rev' | 'cancelRequested'> {
  allowedActions: Array<'Cancel' | 'Restart'>;
  cancelRequested?: boolean;
}

export const TASKS_BY_TYPE: Record<JobType, readonly string[]> = {
  'enable-replication': ['CopyInstaller', 'PrerequisiteCheck', 'InstallMobilityService', 'InstallVssProvider', 'RegisterWithConfigurationServer'],
  'update-agent': ['CopyInstaller', 'PrerequisiteCheck', 'UpdateMobilityService', 'InstallVssProvider', 'RegisterWithConfigurationServer'],
  'uninstall-agent': ['UninstallMobilityService'],
  'install-vss-provider': ['InstallVssProvider'],
  'readiness-check': ['ConnectivityCheck', 'PrerequisiteCheck'],
};

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.has(state);
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
