import type { JobType } from '../domain/job.ts';

/** The job-submitting endpoint of each job type (api.md): the routes serve them, the client calls them. */
export const SUBMIT_PATHS: Readonly<Record<JobType, string>> = {
  'enable-replication': '/api/v1/replication/enable',
  'update-agent': '/api/v1/mobility-service/update',
  'uninstall-agent': '/api/v1/mobility-service/uninstall',
  'install-vss-provider': '/api/v1/mobility-service/install-vss-provider',
  'readiness-check': '/api/v1/readiness-checks',
};
