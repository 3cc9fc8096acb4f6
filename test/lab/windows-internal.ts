// cmd.exe's own commands as the Windows guest simulator runs them (echo, cd, dir, mkdir, rmdir), with
// their messages and exit codes; the command line was parsed strictly before (windows-cmdline.ts).
import type { WindowsDrive } from './windows-fs.ts';

export interface Result { exitCode: number; stdout: string; stderr: string }

export const ok = (stdout = ''): Result => ({ exitCode: 0, stdout, stderr: '' });
export const fail = (exitCode: number, stderr: string, stdout = ''): Result => ({ exitCode, stdout, stderr: stderr.endsWith('\r\n') ? stderr : `${stderr}\r\n` });

/** `echo` prints its text (the parser kept the spaces before an operator); the rest act on the C: folder. */
export function internalCommand(drive: WindowsDrive, name: string, args: string[], at: { cwd: string; chdir: (dir: string) => void; freeBytes?: number | undefined }): Result {
  const { cwd, chdir } = at;
  switch (name) {
    case 'echo': return ok(`${args[0] ?? ''}\r\n`);
    case 'cd': case 'chdir': {
      const target = args[0]?.toLowerCase() === '/d' ? args[1] : args[0];
      if (target === undefined || args.length > (args[0]?.toLowerCase() === '/d' ? 2 : 1)) return fail(1, 'The syntax of the command is incorrect.');
      if (!drive.isDirectory(target, cwd)) return fail(1, 'The system cannot find the path specified.');
      chdir(drive.toWindows(drive.resolve(target, cwd)));
      return ok();
    }
    case 'dir': {
      const paths = args.filter((a) => !a.startsWith('/'));
      if (args.some((a) => a.startsWith('/') && a.toLowerCase() !== '/-c') || paths.length > 1) return fail(1, 'The parameter is incorrect.');
      const target = paths[0] ?? cwd;
      if (!drive.isDirectory(target, cwd)) return fail(1, 'File Not Found');
      const entries = drive.list(target, cwd);
      const free = at.freeBytes ?? drive.freeBytes();
      const lines = [` Directory of ${drive.toWindows(drive.resolve(target, cwd))}`, '', ...entries.map((e) => `01/01/2024  12:00 PM    ${e}`),
        `               ${entries.length} File(s)`, `               0 Dir(s)  ${free} bytes free`];
      return ok(lines.join('\r\n') + '\r\n');
    }
    case 'mkdir': case 'md': {
      if (args.length !== 1) return fail(1, 'The syntax of the command is incorrect.');
      if (drive.exists(args[0] as string, cwd)) return fail(1, `A subdirectory or file ${args[0]} already exists.`);
      drive.mkdirp(args[0] as string, cwd);
      return ok();
    }
    default: { // rmdir / rd
      const target = args.filter((a) => !a.startsWith('/'));
      if (target.length !== 1) return fail(1, 'The syntax of the command is incorrect.');
      if (!drive.exists(target[0] as string, cwd)) return fail(2, 'The system cannot find the file specified.');
      if (!args.some((a) => a.toLowerCase() === '/s') && drive.list(target[0] as string, cwd).length > 0) return fail(145, 'The directory is not empty.');
      drive.remove(target[0] as string, cwd);
      return ok();
    }
  }
}
