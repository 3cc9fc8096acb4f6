// Where the lab keeps its state on the test machine. Everything is test-only and removed by the lab.
// Chroot roots must be root-owned all the way up and not group/other writable (sshd's ChrootDirectory
// rule), so they live under /var/lib, not /tmp.
//
// PUSHINSTALLD_LAB_INSTANCE (0-9, default 0) lets several test runs share one machine (e.g. two
// checkouts tested at once): each instance has its own folders, address locks and loopback block
// (127.77.x.y for instance 0, 127.78.x.y for 1, …), so one run's sweep never touches another's guests.
const raw = process.env.PUSHINSTALLD_LAB_INSTANCE ?? '';
if (raw !== '' && !/^[0-9]$/.test(raw)) throw new Error(`PUSHINSTALLD_LAB_INSTANCE must be a digit 0-9, got "${raw}"`);
export const LAB_INSTANCE = raw === '' ? 0 : Number(raw);
const suffix = LAB_INSTANCE === 0 ? '' : `-${LAB_INSTANCE}`;

export const LAB_DIR = `/var/lib/pushinstalld-lab${suffix}`;
export const GUESTS_DIR = `${LAB_DIR}/guests`;
export const RUN_DIR = `/run/pushinstalld-lab${suffix}`;
export const ADDRESS_LOCKS = `${RUN_DIR}/addresses`;
/** The test users are machine-wide (one passwd entry each), so every instance shares their folder. */
export const USERS_DIR = '/run/pushinstalld-lab-users';
/** Loopback block the lab's guests take their addresses from. */
export const GUEST_NET = `127.${77 + LAB_INSTANCE}`;
/** Present while a test run of this instance is going (holds the runner's pid). */
export const RUNNER_PID_FILE = `${RUN_DIR}/runner.pid`;
