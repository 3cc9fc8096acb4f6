import { ValidationError } from '../../errors/validation-error.ts';
import { supportsJob, type JobType, type MachineRequest } from '../../domain/job.ts';
import type { ApiRoutes } from '../deps.ts';
import { errorSchema, submitBodySchema, submitResponseSchema } from '../schemas.ts';

const SUBMIT = ['admin', 'portal'] as const;

/** The job-submitting endpoints of api.md, one per job type. */
const ENDPOINTS: Array<[string, JobType]> = [
  ['/api/v1/replication/enable', 'enable-replication'],
  ['/api/v1/mobility-service/update', 'update-agent'],
  ['/api/v1/mobility-service/uninstall', 'uninstall-agent'],
  ['/api/v1/mobility-service/install-vss-provider', 'install-vss-provider'],
  ['/api/v1/readiness-checks', 'readiness-check'],
];

export const submitRoutes: ApiRoutes = async (app, { deps }) => {
  for (const [url, type] of ENDPOINTS) {
    app.post<{ Body: { machines: MachineRequest[] } }>(url, {
      config: { roles: SUBMIT },
      schema: { tags: ['jobs'], body: submitBodySchema, response: { 200: submitResponseSchema, 202: submitResponseSchema, 400: errorSchema } },
    }, async (req, reply) => {
      req.body.machines.forEach((m, i) => {
        if (!supportsJob(type, m.os.family)) {
          throw new ValidationError(`machines[${i}].os.family`, type === 'install-vss-provider' && m.os.family === 'linux'
            ? 'the VSS provider exists on Windows only'
            : `${type} jobs for ${m.os.family} machines are not supported by this version of pushinstalld`);
        }
      });
      const results = await deps.jobs.submit(type, req.body.machines);
      const anyCreated = results.some((r) => r.created);
      return reply.code(anyCreated ? 202 : 200).send({
        jobs: results.map((r) => ({ id: r.id, machineId: r.machineId, state: r.state, created: r.created, statusCode: r.created ? 202 : 200 })),
      });
    });
  }
};
