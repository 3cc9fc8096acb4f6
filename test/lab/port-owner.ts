// Who listens on a loopback TCP port, from /proc (no iproute2 needed): lab servers started on a port
// chosen by freePort() check that the listener is theirs, because between freePort() closing its probe
// socket and the server binding, another test process may take the same port.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets listening on `port` (any IPv4 address). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth field.
    if (f.length > 9 && f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9] as string);
  }
  return inodes;
}

/** 'ours' when process `pid` holds the listening socket of `port`, 'foreign' when another does, 'none' when nobody listens. */
export function portOwner(pid: number, port: number): 'ours' | 'foreign' | 'none' {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return 'none';
  const link = (fd: string): string => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } };
  let fds: string[];
  try { fds = readdirSync(`/proc/${pid}/fd`); } catch { return 'foreign'; }
  const ours = fds.some((fd) => {
    const m = /^socket:\[(\d+)\]$/.exec(link(fd));
    return m !== null && inodes.has(m[1] as string);
  });
  return ours ? 'ours' : 'foreign';
}
