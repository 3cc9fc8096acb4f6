import type { FastifyReply, FastifyRequest } from 'fastify';
import { FINAL_STATES, type JobState } from '../../domain/job.ts';
import { toView, type JobEvent } from '../../jobs/types.ts';
import type { ApiDeps, ApiRoutes } from '../deps.ts';
import { TOKEN_ROLES } from '../tokens.ts';
import { mediaResponse, ref } from '../openapi.ts';
import { idParamsSchema } from '../schemas.ts';
import type { JobStreamEvent } from '../views.ts';

const CURSOR = /^\d{1,20}-\d{1,20}$/;
const KEEPALIVE_MS = 15_000;

function startCursor(req: FastifyRequest, query: { after?: string }): string | undefined {
  const header = req.headers['last-event-id'];
  const fromHeader = typeof header === 'string' && CURSOR.test(header) ? header : undefined;
  return fromHeader ?? (query.after && (CURSOR.test(query.after) || query.after === '0') ? query.after : undefined);
}

/**
 * Streams the change log as Server-Sent Events. Each event's `id` is its cursor in the Redis stream, so
 * a client that reconnects with Last-Event-ID (or ?after=) continues exactly where it stopped.
 */
async function stream(deps: ApiDeps, req: FastifyRequest, reply: FastifyReply, opts: { jobId?: string; after: string }): Promise<void> {
  const conn = deps.blockingRedis();
  let closed = false;
  const close = () => { closed = true; conn.disconnect(); };
  req.raw.on('close', close);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`retry: 2000\n: stream of ${opts.jobId ? `job ${opts.jobId}` : 'all jobs'} from ${opts.after}\n\n`);
  let after = opts.after;
  try {
    while (!closed) {
      let events: JobEvent[];
      try {
        events = await deps.jobs.events({ jobId: opts.jobId, after, blockMs: KEEPALIVE_MS, count: 500 }, conn);
      } catch (e) {
        if (closed) break;
        // Redis went away: tell the client and let it reconnect with its cursor.
        res.write(`event: error\ndata: ${JSON.stringify({ message: 'job store unreachable; reconnect with Last-Event-ID', cause: (e as Error).message })}\n\n`);
        break;
      }
      if (events.length === 0) { res.write(': keepalive\n\n'); continue; }
      for (const ev of events) {
        const data: JobStreamEvent = { ...ev };
        const final = ev.kind === 'job' && FINAL_STATES.has(ev.state as JobState);
        if (final && opts.jobId) {
          const job = await deps.jobs.find(ev.jobId);
          if (job) data.job = toView(job);
        }
        res.write(`id: ${ev.cursor}\nevent: ${ev.kind}\ndata: ${JSON.stringify(data)}\n\n`);
        after = ev.cursor;
        if (final && opts.jobId) { closed = true; break; }
      }
    }
  } finally {
    req.raw.off('close', close);
    conn.disconnect();
    res.end();
  }
}

const afterQuery = {
  type: 'object',
  properties: { after: { type: 'string', maxLength: 42, description: 'start after this cursor (an event id), or 0 for the beginning; the Last-Event-ID header wins' } },
};

const eventStream = (description: string) => mediaResponse(
  `${description} Each event: \`id:\` its cursor, \`event:\` job or task, \`data:\` a JobEvent (JSON). An \`event: error\` means the store is unreachable: reconnect with Last-Event-ID.`,
  'text/event-stream', { type: 'string', description: 'Server-Sent Events whose data is a JobEvent', contentSchema: ref('JobEvent') },
);

export const eventRoutes: ApiRoutes = async (app, { deps }) => {
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/api/v1/jobs/:id/events', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags: ['jobs'], operationId: 'watchJob', summary: "Follow a job's changes as Server-Sent Events, ending with its final state",
      params: idParamsSchema, querystring: afterQuery,
      response: { 200: eventStream('The job\'s changes from its first (or after `after`); the last event carries the job.') },
    },
  }, async (req, reply) => {
    await deps.jobs.get(req.params.id);
    await stream(deps, req, reply, { jobId: req.params.id, after: startCursor(req, req.query) ?? '0' });
  });

  app.get<{ Querystring: { after?: string } }>('/api/v1/events', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags: ['jobs'], operationId: 'watchEvents', summary: "Follow every job's changes as Server-Sent Events",
      querystring: afterQuery, response: { 200: eventStream('Every change from now (or after `after`), until the client disconnects.') },
    },
  }, async (req, reply) => {
    const after = startCursor(req, req.query) ?? (await deps.jobs.lastEventCursor());
    await stream(deps, req, reply, { after });
  });
};
