// What the test runner does around a run as root: sweep what a crashed run of this lab instance left,
// create the shared test users, mark the run as going (so another instance's run keeps the users), and
// undo it all at the end.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { sweepGuests } from './linux-guest.ts';
import { RUN_DIR, RUNNER_PID_FILE } from './paths.ts';
import { ensureLabUsers, removeLabUsers } from './users.ts';

export async function beginRun(): Promise<void> {
  await sweepGuests();
  mkdirSync(RUN_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(RUNNER_PID_FILE, `${process.pid}\n`);
  await ensureLabUsers();
}

export async function endRun(): Promise<void> {
  await sweepGuests();
  rmSync(RUNNER_PID_FILE, { force: true });
  await removeLabUsers();
}
