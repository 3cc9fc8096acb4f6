// The simulated C: drive: a folder on the test machine. Windows paths are resolved inside it only
// (case-insensitively, as NTFS does); `..`, other drives, UNC and device paths, characters Windows
// refuses in names, and symbolic links are refused, so a simulated command can never reach outside.
// Everything the simulator creates is handed to the folder's owner (the Samba or SSH user), so the
// guest's file channel can later replace or delete it, as the administrator could on Windows.
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class WindowsPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WindowsPathError';
  }
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what Windows refuses in names
const BAD_NAME = /[<>:"|?*\x00-\x1f]/;
const DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

export class WindowsDrive {
  constructor(
    /** The folder that is C:\ */
    readonly root: string,
    private readonly owner?: { uid: number; gid: number },
  ) {}

  /** A Windows path (absolute, or relative to `cwd`) → the path on the test machine. */
  resolve(winPath: string, cwd = 'C:\\'): string {
    let p = winPath.replace(/\//g, '\\');
    if (p.startsWith('\\\\')) throw new WindowsPathError(`UNC and device paths are not simulated: ${winPath}`);
    if (/^[A-Za-z]:(?!\\)/.test(p) && p.length > 2) throw new WindowsPathError(`drive-relative path: ${winPath}`);
    if (/^[A-Za-z]:$/.test(p)) p = `${p}\\`;
    if (!/^[A-Za-z]:\\/.test(p)) p = `${cwd.replace(/\\+$/, '')}\\${p.replace(/^\\+/, '')}`;
    if (!/^[Cc]:\\/.test(p)) throw new WindowsPathError(`only drive C: exists on this machine: ${winPath}`);
    const parts = p.slice(3).split('\\').filter((s) => s !== '' && s !== '.');
    let host = this.root;
    for (const part of parts) {
      if (part === '..') throw new WindowsPathError(`".." is not simulated: ${winPath}`);
      if (BAD_NAME.test(part) || DEVICE.test(part) || /[. ]$/.test(part)) throw new WindowsPathError(`invalid Windows file name ${JSON.stringify(part)} in ${winPath}`);
      let actual = part;
      if (existsSync(host) && lstatSync(host).isDirectory()) {
        const match = readdirSync(host).find((n) => n.toLowerCase() === part.toLowerCase());
        if (match !== undefined) actual = match;
      }
      host = path.join(host, actual);
      if (existsSync(host) && lstatSync(host).isSymbolicLink()) throw new WindowsPathError(`symbolic links are not followed: ${winPath}`);
    }
    if (host !== this.root && !host.startsWith(this.root + path.sep)) throw new WindowsPathError(`outside C: ${winPath}`);
    return host;
  }

  private chown(p: string): void {
    if (this.owner) chownSync(p, this.owner.uid, this.owner.gid);
  }

  exists(winPath: string, cwd?: string): boolean {
    return existsSync(this.resolve(winPath, cwd));
  }

  isDirectory(winPath: string, cwd?: string): boolean {
    const p = this.resolve(winPath, cwd);
    return existsSync(p) && lstatSync(p).isDirectory();
  }

  mkdirp(winPath: string, cwd?: string): void {
    const target = this.resolve(winPath, cwd);
    const rel = path.relative(this.root, target);
    let cur = this.root;
    for (const part of rel.split(path.sep).filter(Boolean)) {
      cur = path.join(cur, part);
      if (!existsSync(cur)) { mkdirSync(cur, { mode: 0o755 }); this.chown(cur); }
    }
  }

  read(winPath: string, cwd?: string): Buffer {
    return readFileSync(this.resolve(winPath, cwd));
  }

  write(winPath: string, data: string | Buffer, cwd?: string): void {
    const p = this.resolve(winPath, cwd);
    this.mkdirp(path.win32.dirname(this.toWindows(p)));
    writeFileSync(p, data, { mode: 0o644 });
    this.chown(p);
  }

  append(winPath: string, text: string): void {
    const p = this.resolve(winPath);
    const before = existsSync(p) ? readFileSync(p) : Buffer.alloc(0);
    this.write(winPath, Buffer.concat([before, Buffer.from(text)]));
  }

  remove(winPath: string, cwd?: string): void {
    const p = this.resolve(winPath, cwd);
    if (p === this.root) throw new WindowsPathError('refusing to delete C:\\');
    rmSync(p, { recursive: true, force: true });
  }

  /** The Windows path of a path inside the folder. */
  toWindows(hostPath: string): string {
    const rel = path.relative(this.root, hostPath);
    return `C:\\${rel.split(path.sep).filter(Boolean).join('\\')}`;
  }

  list(winPath: string, cwd?: string): string[] {
    return readdirSync(this.resolve(winPath, cwd));
  }

  /** Bytes free on the file system that holds the folder. */
  freeBytes(): number {
    const s = statfsSync(this.root);
    return s.bavail * s.bsize;
  }

  /** Every file under C:, as Windows paths (for scans such as "the passphrase is nowhere"). */
  allFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p); else out.push(this.toWindows(p));
      }
    };
    walk(this.root);
    return out;
  }
}
