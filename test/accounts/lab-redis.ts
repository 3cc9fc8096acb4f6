import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';

/**
 * A lab redis-server and a client on it for the tests of one file or suite: started before them,
 * stopped after them. Read `redis` and `url` inside the tests (they exist once `before` has run).
 */
export function useLabRedis(): { readonly redis: Redis; readonly url: string } {
  let lab: LabRedis | undefined;
  let client: Redis | undefined;
  before(async () => {
    lab = await startLabRedis();
    client = new Redis(lab.url);
  });
  after(async () => {
    client?.disconnect();
    await lab?.stop();
  });
  return {
    get redis(): Redis {
      if (!client) throw new Error('the lab Redis is not started yet (use it inside a test or hook)');
      return client;
    },
    get url(): string {
      if (!lab) throw new Error('the lab Redis is not started yet (use it inside a test or hook)');
      return lab.url;
    },
  };
}
