import type { Redis } from 'ioredis';

/**
 * How the API tells the worker running a job to abort it: a Redis pub/sub channel carrying job ids. The
 * service publishes; every worker listens and aborts the job if it runs it.
 */
export const CANCEL_CHANNEL = 'pi:cancel';

export async function publishCancel(redis: Redis, jobId: string): Promise<void> {
  await redis.publish(CANCEL_CHANNEL, jobId);
}

/** Calls `onCancel` with each job id published; the returned function stops listening. */
export async function listenForCancel(subscriber: Redis, onCancel: (jobId: string) => void): Promise<() => Promise<void>> {
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (channel: string, jobId: string) => {
    if (channel === CANCEL_CHANNEL) onCancel(jobId);
  });
  return async () => {
    await subscriber.unsubscribe(CANCEL_CHANNEL).catch(() => undefined);
  };
}
