import { shQuote } from '../../transports/shell-quote.ts';

/**
 * The POSIX sh commands the Linux steps send, built from validated values only and quoted for sh.
 * Kept apart from the step logic so they can be read (and unit-tested) as the exact guest contract.
 */
export const VX_VERSION_FILE = '/usr/local/.vx_version';
export const INSTALL_LOG = '/var/log/ua_install.log';

/** The documented install and register lines (the push and the manual lines share them). */
export const linuxArgs = {
  install: (installDir: string) => `./install -d ${shQuote(installDir)} -r MS -v VmWare -q`,
  /** Endpoint and passphrase file already quoted by the caller (the manual lines carry placeholders). */
  register: (installDir: string, csEndpoint: string, passphraseFile: string) =>
    `${shQuote(`${installDir.replace(/\/+$/, '')}/Vx/bin/UnifiedAgentConfigurator.sh`)} -i ${csEndpoint} -P ${passphraseFile}`,
};

export const linuxCommands = {
  whoami: () => 'id -u',
  sudoCheck: () => 'sudo -n true',
  uname: () => 'uname -m',
  meminfo: () => 'cat /proc/meminfo',
  /** Prints each readable release file behind a marker line. */
  releaseFiles: (files: readonly string[]) =>
    `for f in ${files.map(shQuote).join(' ')}; do if [ -r "$f" ]; then echo "==> $f <=="; cat "$f"; echo; fi; done; true`,
  agentState: () => `cat ${VX_VERSION_FILE} 2>/dev/null; true`,
  makeStage: (stage: string) => `umask 077 && mkdir -p ${shQuote(stage)} && chmod 700 ${shQuote(stage)} && stat -c '%u %a' ${shQuote(stage)}`,
  /** Available KiB on the file system holding `p` (or its nearest existing parent). */
  freeKiB: (p: string) => `d=${shQuote(p)}; while [ ! -e "$d" ]; do d=$(dirname "$d"); done; df -Pk "$d" | tail -n 1`,
  sha256: (file: string) => `if [ -f ${shQuote(file)} ]; then sha256sum ${shQuote(file)}; fi; true`,
  extract: (archive: string, into: string) => `rm -rf ${shQuote(into)} && mkdir -p ${shQuote(into)} && tar -xzf ${shQuote(archive)} -C ${shQuote(into)}`,
  grubConfigs: () =>
    'for f in /boot/grub2/grub.cfg /boot/grub/grub.cfg /boot/grub/menu.lst /boot/grub/grub.conf /boot/efi/EFI/*/grub.cfg /etc/default/grub; do if [ -r "$f" ]; then echo "==> $f <=="; cat "$f"; echo; fi; done; true',
  install: (extracted: string, installDir: string) =>
    `cd ${shQuote(extracted)} && ${linuxArgs.install(installDir)}`,
  installLogTail: (lines = 50) => `tail -n ${lines} ${INSTALL_LOG} 2>/dev/null; true`,
  writePrivateFile: (file: string) => `umask 077 && cat > ${shQuote(file)} && chmod 600 ${shQuote(file)}`,
  register: (installDir: string, csEndpoint: string, passphraseFile: string) =>
    linuxArgs.register(installDir, shQuote(csEndpoint), shQuote(passphraseFile)),
  /**
   * Runs `command` with a marker file holding the pid of the shell that runs it, removed when it ends: an
   * attempt handed back while it runs (its connection gone, the command not) lets the next one see it.
   */
  marked: (marker: string, command: string) =>
    `echo $$ > ${shQuote(marker)} && { ${command}; }; rc=$?; rm -f ${shQuote(marker)}; exit $rc`,
  /**
   * Waits up to `seconds` for the command behind a marker to end. Prints nothing (no marker), "ended <pid>"
   * (marker removed) or "running <pid>".
   */
  waitForMarked: (marker: string, seconds: number) =>
    `m=${shQuote(marker)}; [ -f "$m" ] || exit 0; p=$(cat "$m"); i=0; ` +
    `while [ -n "$p" ] && [ -d "/proc/$p" ] && [ $i -lt ${Math.floor(seconds)} ]; do sleep 1; i=$((i+1)); done; ` +
    `if [ -n "$p" ] && [ -d "/proc/$p" ]; then echo "running $p"; else rm -f "$m"; echo "ended $p"; fi`,
  remove: (p: string) => `rm -f ${shQuote(p)}`,
  removeTree: (p: string) => `rm -rf ${shQuote(p)}`,
  uninstall: (installDir: string) => `cd ${shQuote(installDir)} && ./uninstall.sh -Y`,
};

/** Parses `df -Pk` output's last line: available KiB. */
export function parseDfAvailableKiB(line: string): number | null {
  const cols = line.trim().split(/\s+/);
  // Filesystem 1024-blocks Used Available Capacity Mounted-on
  const avail = cols[3];
  return avail !== undefined && /^\d+$/.test(avail) ? Number(avail) : null;
}

/** Parses `key=value` lines of /usr/local/.vx_version. */
export function parseVxVersion(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** Splits the output of `releaseFiles`/`grubConfigs` back into path → content. */
export function parseMarkedFiles(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^==> (.+?) <==$/gm;
  const marks = [...text.matchAll(re)];
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length + 1;
    const end = i + 1 < marks.length ? (marks[i + 1]?.index ?? text.length) : text.length;
    out[m[1] as string] = text.slice(start, end).replace(/\n$/, '');
  });
  return out;
}

/** Kernel lines that name the root (or resume) device by a raw device name instead of a UUID/label. */
export function grubDeviceNameLines(configs: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, content] of Object.entries(configs)) {
    for (const line of content.split('\n')) {
      if (/^\s*#/.test(line)) continue;
      if (/\b(root|resume)=\/dev\/(sd|hd|vd|xvd)[a-z]+\d*\b/.test(line)) found.push(`${file}: ${line.trim()}`);
    }
  }
  return found;
}

/** MemTotal and MemAvailable of /proc/meminfo in bytes (MemAvailable: kernels before 3.14 lack it, then MemFree). */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } | null {
  const kib = (name: string) => { const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text); return m ? Number(m[1]) * 1024 : undefined; };
  const totalBytes = kib('MemTotal');
  const availableBytes = kib('MemAvailable') ?? kib('MemFree');
  return totalBytes === undefined || availableBytes === undefined ? null : { totalBytes, availableBytes };
}
