import { ValidationError } from '../../errors/validation-error.ts';
import { supportsJob, type JobType, type MachineRequest } from '../../domain/job.ts';
import type { ApiRoutes } from '../deps.ts';
import { ref } from '../openapi.ts';
import { SUBMIT_PATHS } from '../paths.ts';
import { submitBodySchema } from '../schemas.ts';
import { submitted } from '../views.ts';

const SUBMIT = ['admin', 'portal'] as const;

/** What each submitting operation is called and does (OpenAPI operationId and summary). */
const OPERATIONS: Readonly<Record<JobType, { operationId: string; summary: string }>> = {
  'enable-replication': { operationId: 'enableReplication', summary: 'Push and register the Mobility Service agent (enable replication)' },
  'update-agent': { operationId: 'updateAgent', summary: 'Update the Mobility Service agent' },
  'uninstall-agent': { operationId: 'uninstallAgent', summary: 'Uninstall the Mobility Service agent' },
  'install-vss-provider': { operationId: 'installVssProvider', summary: 'Install the Azure Site Recovery VSS provider (Windows)' },
  'readiness-check': { operationId: 'runReadinessCheck', summary: 'Make every check a push would make, installing nothing' },
};

const submitResponse = (description: string) => ({ description, ...ref('SubmitResponse') });

export const submitRoutes: ApiRoutes = async (app, { deps }) => {
  for (const [type, url] of Object.entries(SUBMIT_PATHS) as Array<[JobType, string]>) {
    app.post<{ Body: { machines: MachineRequest[] } }>(url, {
      config: { roles: SUBMIT },
      schema: {
        tags: ['submit'], ...OPERATIONS[type],
        description: `One ${type} job per machine. One bad machine refuses the whole request (400, nothing stored); a machine that already has an active ${type} job gets that job back (its entry says statusCode 200, created false).`,
        body: submitBodySchema,
        response: { 200: submitResponse('Every machine already had an active job of this type.'), 202: submitResponse('At least one job was created.') },
      },
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
