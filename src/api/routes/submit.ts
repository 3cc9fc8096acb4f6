import { ValidationError } from '../../errors/validation-error.ts';
import { supportsJob, type JobType, type MachineRequest } from '../../domain/job.ts';
import type { ApiRoutes } from '../deps.ts';
import { SUBMIT_PATHS } from '../paths.ts';
import { errorSchema, submitBodySchema, submitResponseSchema } from '../schemas.ts';
import { submitted } from '../views.ts';

const SUBMIT = ['admin', 'portal'] as const;

export const submitRoutes: ApiRoutes = async (app, { deps }) => {
  for (const [type, url] of Object.entries(SUBMIT_PATHS) as Array<[JobType, string]>) {
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
      return reply.code(anyCreated ? 202 : 200).send({ jobs: results.map(submitted) });
    });
  }
};
