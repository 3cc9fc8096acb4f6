// Readiness of this process, as /readyz answers it: the API's and a worker-only process's metrics
// listener (metrics-server.ts) check the same things the same way.
import type { ApiDeps } from './deps.ts';
import type { Readiness } from './views.ts';

export type ReadinessDeps = Pick<ApiDeps, 'redis' | 'keyAgreement' | 'missingSettings'> & { repository: Pick<ApiDeps['repository'], 'readable'> };

/** Redis reachable, the repository readable, the vault key agreed; unset push settings are reported, not failed. */
export async function readiness(deps: ReadinessDeps): Promise<{ ok: boolean; body: Readiness }> {
  const checks: Record<string, string> = {};
  try {
    await deps.redis.ping();
    checks.redis = 'ok';
  } catch (e) {
    checks.redis = `unreachable: ${(e as Error).message}`;
  }
  checks.repository = (await deps.repository.readable()) ? 'ok' : 'unreadable';
  const agreement = deps.keyAgreement?.current();
  if (agreement) checks.vaultKey = agreement.agreed ? 'ok' : `mismatch: ${agreement.reason}`;
  const ok = Object.values(checks).every((v) => v === 'ok');
  const missing = [...(deps.missingSettings ?? [])];
  // The process itself is ready without them; the detail says why pushes will fail (99016) until they are set.
  const settings = missing.length === 0
    ? { missing, detail: 'ok' }
    : { missing, detail: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: jobs that push an agent fail with 99016 until ${missing.length === 1 ? 'it is' : 'they are'} set` };
  return { ok, body: { status: ok ? 'ready' : 'not ready', checks, settings } };
}
