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
  /**
   * `df -Pk` of the file system holding `p` (or its nearest existing parent; the parent is found with
   * shell expansions, not one process per level): the caller reads the last line.
   */
  freeKiB: (p: string) => `d=${shQuote(p)}; while [ ! -e "$d" ]; do d=\${d%/*}; d=\${d:-/}; done; df -Pk "$d"`,
  /** The same for several paths with one `df` (one line per path, in their order, after the header). */
  freeKiBMany: (paths: readonly string[]) =>
    `set --; for d in ${paths.map(shQuote).join(' ')}; do while [ ! -e "$d" ]; do d=\${d%/*}; d=\${d:-/}; done; set -- "$@" "$d"; done; df -Pk "$@"`,
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
  /** SHA-256 lines of the installers already in the staging folder (a retried job finds its copy there). */
  stagedHashes: (stage: string) => `for f in ${shQuote(stage)}/*.tar.gz; do if [ -f "$f" ]; then sha256sum "$f"; fi; done; true`,
};

/** How long one guest command waits for a command an earlier attempt started before it reports back. */
export const EARLIER_WAIT_SEC = 20;

/**
 * Guest scripts made of sections, so that several probes share one exec and their output is still
 * parsed strictly: each section's output stands between `@@<nonce> begin <name>` and
 * `@@<nonce> end <name> <exit code>` lines. The nonce is fresh per script, so no file content printed
 * in a section can forge a marker. After a section, `$pi_rc` holds its exit code.
 */
export function section(nonce: string, name: string, command: string): string {
  if (!/^[0-9a-f]{16,64}$/.test(nonce) || !/^[a-z0-9-]+$/.test(name)) throw new Error('bad section nonce or name');
  return `printf '@@%s begin %s\\n' ${nonce} ${name}; { ${command}; }; pi_rc=$?; printf '\\n@@%s end %s %s\\n' ${nonce} ${name} "$pi_rc"`;
}

export interface Section { output: string; code: number }

/** The sections of a script's output, by name; a section that is cut short or appears twice is an error. */
export function parseSections(text: string, nonce: string): Map<string, Section> {
  const out = new Map<string, Section>();
  const re = new RegExp(`^@@${nonce} begin ([a-z0-9-]+)\\n([\\s\\S]*?)\\n@@${nonce} end \\1 (\\d+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const name = m[1] as string;
    if (out.has(name)) throw new Error(`section ${name} appears twice`);
    out.set(name, { output: m[2] as string, code: Number(m[3]) });
  }
  return out;
}

/** Verifies the copied installer and, only when its SHA-256 is the expected one, extracts it: one exec. */
export function verifyAndExtract(nonce: string, archive: string, sha256: string, into: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('bad SHA-256');
  return [
    // OpenSSL's SHA-256 uses the CPU's SHA instructions (several times cheaper than coreutils' or busybox's
    // sha256sum); a guest without it (or where it fails) falls back to sha256sum. Both print the hex first.
    `h=$(openssl dgst -sha256 -r ${shQuote(archive)} 2>/dev/null) || h=$(sha256sum ${shQuote(archive)} 2>/dev/null)`,
    section(nonce, 'sha', 'printf \'%s\\n\' "$h"'),
    `case "$h" in '${sha256} '*) ${section(nonce, 'extract', linuxCommands.extract(archive, into))};; esac`,
  ].join('\n');
}

/**
 * Writes the passphrase file from stdin (0600, never on a command line), registers (behind the job's
 * running marker, see `marked`), removes the file whatever happened, and reads the agent state back: one
 * exec. With `stage`, a registration that succeeded also removes the staging folder (the job's last use
 * of it), reported as section `cleanup`.
 */
export function registerAndVerify(nonce: string, o: { installDir: string; csEndpoint: string; passphraseFile: string; marker: string; stage?: string }): string {
  // `marked` ends with `exit`: in a subshell, so the script goes on (its $$ is still the script's shell).
  const register = `(${linuxCommands.marked(o.marker, linuxCommands.register(o.installDir, o.csEndpoint, o.passphraseFile))})`;
  return [
    section(nonce, 'write', linuxCommands.writePrivateFile(o.passphraseFile)),
    `if [ "$pi_rc" = 0 ]; then ${section(nonce, 'register', register)}; fi`,
    'registered=$pi_rc',
    linuxCommands.remove(o.passphraseFile),
    section(nonce, 'agent', linuxCommands.agentState()),
    o.stage === undefined ? '' : `if [ "$registered" = 0 ]; then ${section(nonce, 'cleanup', `cd / && ${linuxCommands.removeTree(o.stage)}`)}; fi`,
  ].join('\n');
}

export interface ProbeSpec {
  releaseFiles: readonly string[];
  /**
   * The marker of a command an earlier, handed-back attempt may still run: the root part starts by
   * waiting for it (up to 20 s, then the caller waits on), so what follows sees what it did.
   */
  earlier?: string;
  /** Create this staging folder (0700) and report its owner and mode, the account's uid, and the installers already in it. */
  stage?: string;
  /** Paths whose file system's free space to report. */
  freeSpace: readonly string[];
  agentState: boolean;
  grub: boolean;
  /** /proc/meminfo (readable by any account). */
  meminfo?: boolean;
}

/**
 * What a job reads from a guest before it copies, as one script in two parts: what runs as the account
 * (architecture, release files, the staging folder, which the account must own), and what needs root
 * (agent state, free space, GRUB configuration), which the caller runs through sudo when the account says so.
 */
export function probeScript(nonce: string, spec: ProbeSpec): { asAccount: string; privileged: string } {
  const asAccount = [section(nonce, 'arch', linuxCommands.uname()), section(nonce, 'release', linuxCommands.releaseFiles(spec.releaseFiles))];
  if (spec.stage !== undefined) {
    asAccount.push(section(nonce, 'stage', `${linuxCommands.makeStage(spec.stage)} && ${linuxCommands.whoami()}`));
    asAccount.push(section(nonce, 'staged', linuxCommands.stagedHashes(spec.stage)));
  }
  if (spec.meminfo) asAccount.push(section(nonce, 'meminfo', linuxCommands.meminfo()));
  const privileged: string[] = [];
  // In a subshell: the wait ends with `exit`, which must not end the script.
  // In a subshell (the wait ends with `exit`), entered only when there is a marker (the common case forks nothing).
  if (spec.earlier !== undefined) {
    privileged.push(section(nonce, 'earlier', `if [ -f ${shQuote(spec.earlier)} ]; then (${linuxCommands.waitForMarked(spec.earlier, EARLIER_WAIT_SEC)}); fi`));
  }
  if (spec.agentState) privileged.push(section(nonce, 'agent', linuxCommands.agentState()));
  if (spec.freeSpace.length > 0) privileged.push(section(nonce, 'free', linuxCommands.freeKiBMany(spec.freeSpace)));
  if (spec.grub) privileged.push(section(nonce, 'grub', linuxCommands.grubConfigs()));
  return { asAccount: asAccount.join('\n'), privileged: privileged.join('\n') };
}

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
