// What goes over the wire, as the routes produce it: the response shapes of the API in the daemon's own
// types (re-exported from where they live; only the API's envelopes are declared here). The JSON schemas
// of the same shapes are in components.ts; test/api/openapi-types.test.ts checks that the types
// generated from them (src/client/openapi.ts, what the client and portals use) agree with these.
import type { RunAsAccount } from '../accounts/accounts.ts';
import type { JobState } from '../domain/job.ts';
import type { JobService, SubmitResult } from '../jobs/service.ts';
import type { JobEvent, JobView } from '../jobs/types.ts';
import type { HostPin } from '../accounts/host-keys.ts';
import type { InstallerInfo, RejectedFile } from '../repository/snapshot.ts';

export type { AccountInput } from '../accounts/accounts.ts';
export type { OsSupportEntry } from '../repository/select-installer.ts';
export type { JobEvent, JobView, RunAsAccount };

/** One entry of a submit or restart response: a new job (202), or the machine's active job of that type (200). */
export interface SubmittedJob {
  id: string;
  machineId: string;
  state: JobState;
  created: boolean;
  statusCode: 200 | 202;
}

/** A submit result as the API shows it. */
export function submitted(r: SubmitResult): SubmittedJob {
  return { id: r.id, machineId: r.machineId, state: r.state, created: r.created, statusCode: r.created ? 202 : 200 };
}

/** GET /api/v1/jobs: filters and paging. */
export type JobFilter = Parameters<JobService['list']>[0] & { limit?: number; cursor?: string };

export interface JobPage {
  jobs: JobView[];
  nextCursor: string | null;
}

/** One Server-Sent Event of a job's or the global change log; the final event of a job stream carries the job. */
export interface JobStreamEvent extends JobEvent {
  job?: JobView;
}

export type InstallerView = Pick<InstallerInfo, 'file' | 'osTag' | 'platform' | 'version' | 'releaseDate' | 'size' | 'sha256'> & { eligible: boolean };

export interface RepositoryListing {
  installers: InstallerView[];
  rejected: RejectedFile[];
}

/** A pinned SSH host key or WinRM certificate. */
export type HostKeyView = HostPin;

export interface Readiness {
  status: 'ready' | 'not ready';
  checks: Record<string, string>;
  /** Settings a push needs that are unset (the API runs without them; pushes fail with 99016 until set). */
  settings: { missing: string[]; detail: string };
}
