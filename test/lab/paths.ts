// Where the lab keeps its state on the test machine. Everything is test-only and removed by the lab.
// Chroot roots must be root-owned all the way up and not group/other writable (sshd's ChrootDirectory
// rule), so they live under /var/lib, not /tmp.
export const LAB_DIR = '/var/lib/pushinstalld-lab';
export const GUESTS_DIR = `${LAB_DIR}/guests`;
export const RUN_DIR = '/run/pushinstalld-lab';
export const ADDRESS_LOCKS = `${RUN_DIR}/addresses`;
/** Loopback block the lab's guests take their addresses from. */
export const GUEST_NET = '127.77';
