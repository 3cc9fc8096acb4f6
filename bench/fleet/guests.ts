// The fleet benchmark's guests: N lab sshd guests (test/lab/linux-guest.ts), each on its own loopback
// address, all pretending to be Ubuntu 20.04 and accepting the same configuration server passphrase.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createLinuxGuest, type LinuxGuest } from '../../test/lab/linux-guest.ts';

/** Runs `work` over `items` with at most `limit` at once; resolves with every result (or rejection). */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try { results[i] = { status: 'fulfilled', value: await work(items[i] as T, i) }; } catch (e) { results[i] = { status: 'rejected', reason: e }; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export async function createGuests(count: number, passphrase: string): Promise<LinuxGuest[]> {
  const settled = await pool(Array.from({ length: count }), 6, () => createLinuxGuest({ name: 'fleet', os: 'ubuntu-20.04', behaviour: { passphrase }, openssl: 'host' }));
  const guests = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(guests.map((g) => g.destroy()));
    throw (failed as PromiseRejectedResult).reason;
  }
  setOpenssl(guests, false);
  return guests;
}

/**
 * Every guest has the host's openssl (as Ubuntu ships it); switched off (renamed, host side, untimed) the
 * push verifies copies with busybox's sha256sum, as on the bare lab guests of the other benchmarks.
 */
export function setOpenssl(guests: readonly LinuxGuest[], on: boolean): void {
  for (const g of guests) {
    const [from, to] = on ? ['/usr/bin/openssl.off', '/usr/bin/openssl'] : ['/usr/bin/openssl', '/usr/bin/openssl.off'];
    if (existsSync(g.hostPath(from))) renameSync(g.hostPath(from), g.hostPath(to));
  }
}

/** Back to a machine that never saw an agent: no agent, empty /tmp, no installer log (host side, untimed). */
export function resetGuest(g: LinuxGuest): void {
  for (const p of ['/usr/local/ASR', '/usr/local/.vx_version', '/var/log/ua_install.log']) rmSync(g.hostPath(p), { recursive: true, force: true });
  const tmp = g.hostPath('/tmp');
  for (const name of readdirSync(tmp)) rmSync(path.join(tmp, name), { recursive: true, force: true });
}

/** How many guests hold a registered agent (every path must end with all of them registered). */
export function registeredCount(guests: readonly LinuxGuest[]): number {
  return guests.filter((g) => g.exists('/usr/local/.vx_version') && /^AGENT_CONFIGURATION_STATUS=Succeeded$/m.test(g.read('/usr/local/.vx_version'))).length;
}

/** Guests whose /tmp is not empty after a path (a path must clean its staging folder). */
export function leftovers(guests: readonly LinuxGuest[]): number {
  return guests.filter((g) => readdirSync(g.hostPath('/tmp')).length > 0).length;
}
