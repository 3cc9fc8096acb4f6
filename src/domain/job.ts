// A push job as every layer sees it: types, states, the tasks of each job type, and which job types
// this version runs for which OS family. Declared once here; the API's schemas derive from it.
import type { HostKeyPolicy, OsFamily, WindowsTransport, WinrmTls } from './os.ts';

export const JOB_STATES = ['NotStarted', 'InProgress', 'Succeeded', 'Warning', 'Failed', 'Cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TASK_STATES = [...JOB_STATES, 'Skipped'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: ReadonlySet<JobState> = new Set(['Succeeded', 'Warning', 'Failed', 'Cancelled']);

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.has(state);
}

export const JOB_TYPES = ['enable-replication', 'update-agent', 'uninstall-agent', 'install-vss-provider', 'readiness-check'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const TASK_NAMES = [
  'CopyInstaller', 'PrerequisiteCheck', 'InstallMobilityService', 'UpdateMobilityService', 'InstallVssProvider',
  'RegisterWithConfigurationServer', 'UninstallMobilityService', 'ConnectivityCheck',
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export const TASKS_BY_TYPE: Record<JobType, readonly TaskName[]> = {
  'enable-replication': ['CopyInstaller', 'PrerequisiteCheck', 'InstallMobilityService', 'InstallVssProvider', 'RegisterWithConfigurationServer'],
  'update-agent': ['CopyInstaller', 'PrerequisiteCheck', 'UpdateMobilityService', 'InstallVssProvider', 'RegisterWithConfigurationServer'],
  'uninstall-agent': ['UninstallMobilityService'],
  'install-vss-provider': ['InstallVssProvider'],
  'readiness-check': ['ConnectivityCheck', 'PrerequisiteCheck'],
};

/** Whether this version can run a job of that type for that OS family (the API refuses the rest up front). */
export function supportsJob(type: JobType, family: OsFamily): boolean {
  // The VSS provider exists on Windows only; every other job type runs on both.
  if (type === 'install-vss-provider') return family === 'windows';
  return true;
}

/** The error shape a job and the API report (api.md `Error`). */
export interface JobError {
  code: number;
  message: string;
  possibleCauses: string;
  recommendedAction: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

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
  /** winrm-https: "legacy" also allows TLS 1.0/1.1 for this machine only (default "modern"). */
  winrmTls?: WinrmTls;
  installLocation?: string;
  hostKeyPolicy?: HostKeyPolicy;
}

export interface Task {
  name: TaskName;
  state: TaskState;
  startedAt?: string;
  endedAt?: string;
  /** Why a task was skipped or what it found (e.g. "copy skipped: same SHA-256 already on the guest"). */
  message?: string;
  errors: JobError[];
}

/** One attempt of a job: when it ran, where, and for a failed attempt that was retried, why. */
export interface AttemptLogEntry {
  attempt: number;
  startedAt: string;
  endedAt?: string;
  error?: JobError;
  retryAt?: string;
  /** Why the attempt was handed back to the queue (its worker shut down); such an attempt is not counted. */
  handedBack?: string;
  processServerId: string;
  worker: string;
}

export interface JobRecord {
  id: string;
  type: JobType;
  machine: { machineId: string; displayName: string; address: string; os: MachineRequest['os'] };
  processServerId: string;
  runAsAccountId: string;
  state: JobState;
  agentVersion?: string;
  /** The version the installed agent reports (its build, e.g. 9.30.5407.1), once seen on the machine. */
  installedBuild?: string;
  installer?: { file: string; sha256: string };
  tasks: Task[];
  errors: JobError[];
  attempts: number;
  attemptLog?: AttemptLogEntry[];
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
