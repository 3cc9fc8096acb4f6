// Host binaries copied into a chrooted lab guest: the file and the shared libraries it needs, at the
// same paths (the guest root is a tmpfs of its own; nothing outside it changes).
import { chmodSync, copyFileSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must } from './exec.ts';

/** Copies a host file into the guest at the same path (its content: symlinks are followed). */
export function copyIn(root: string, file: string, mode?: number): void {
  const target = path.join(root, file);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  // Never write through a busybox applet symlink that may sit at that path.
  rmSync(target, { force: true });
  copyFileSync(realpathSync(file), target);
  if (mode !== undefined) chmodSync(target, mode);
}

/** The shared libraries a binary or plugin needs, as ldd resolves them on the host. */
export async function libraries(file: string): Promise<string[]> {
  const out = await must('ldd', [file]);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1] as string);
  }
  return libs;
}

/** Where the guest's `openssl` wrapper records each call (its arguments), for tests to see what ran. */
export const OPENSSL_CALLS = '/var/log/openssl-calls.log';

/** What `openssl` a lab guest has (see installGuestOpenssl). */
export type GuestOpenssl = 'host' | 'host-recorded' | 'wrong-sha256';

/**
 * `host`: the host's `openssl` with its libraries, as the distributions a lab guest stands for ship it;
 * `host-recorded`: the same (as /usr/bin/openssl.bin) behind a /usr/bin/openssl that records its
 * arguments in OPENSSL_CALLS; `wrong-sha256`: an `openssl` whose digests are of nothing the guest holds:
 * what a copy damaged on the way looks like to the push (busybox's own sha256sum cannot be replaced: its
 * shell runs applets before PATH).
 */
export async function installGuestOpenssl(root: string, kind: GuestOpenssl): Promise<void> {
  const wrapper = path.join(root, 'usr/bin/openssl');
  mkdirSync(path.dirname(wrapper), { recursive: true, mode: 0o755 });
  if (kind === 'wrong-sha256') {
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${OPENSSL_CALLS}\nfor f in "$@"; do last=$f; done\necho "${'0'.repeat(64)} *$last"\n`, { mode: 0o755 });
    return;
  }
  const openssl = '/usr/bin/openssl';
  copyIn(root, openssl, 0o755);
  for (const lib of await libraries(openssl)) copyIn(root, lib, 0o755);
  if (kind === 'host') return;
  renameSync(wrapper, `${wrapper}.bin`);
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${OPENSSL_CALLS}\nexec /usr/bin/openssl.bin "$@"\n`, { mode: 0o755 });
}
