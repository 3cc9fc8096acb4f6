// Benchmark: copy the same 200 MiB file to a local smbd with our SMB client and with `smbclient put`,
// alternating, several rounds, with Samba's defaults and with `server signing = mandatory`.
// Both sides are timed one-shot (connect, log on, copy, log off): smbclient as a whole process, ours
// from SmbClient.connect() to close(). Ours on an already open session is reported too.
// Run: node --import tsx bench/smb-put.ts [--rounds N] [--mib N]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSamba } from '../test/lab/samba.ts';
import type { SambaServer } from '../test/lab/samba.ts';
import { SmbClient } from '../src/transports/smb/index.ts';

const execFileP = promisify(execFile);

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const ROUNDS = arg('rounds', 7);
const MIB = arg('mib', 200);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Untimed: remove the previous copy and flush dirty pages, so neither client pays for the other's
 * truncation or writeback (that alone moved single runs by 2x). */
async function settle(s: SambaServer, name: string): Promise<void> {
  await rm(join(s.shareDir, name), { force: true });
  await execFileP('sync');
}

async function oursOneShot(s: SambaServer, file: string): Promise<number> {
  const u = s.users[0]!;
  await settle(s, 'ours.bin');
  const t0 = performance.now();
  const c = await SmbClient.connect({ host: s.host, port: s.port, share: s.share, username: u.name, password: u.password });
  await c.put(file, 'ours.bin');
  await c.close();
  return performance.now() - t0;
}

async function smbclientPut(s: SambaServer, file: string): Promise<number> {
  const u = s.users[0]!;
  await settle(s, 'theirs.bin');
  const t0 = performance.now();
  await execFileP('smbclient', ['-p', String(s.port), `//127.0.0.1/${s.share}`, '-U', u.name, '-c', `put ${file} theirs.bin`],
    { env: { ...process.env, PASSWD: u.password } });
  return performance.now() - t0;
}

interface SettingResult {
  setting: string;
  extraGlobal: string[];
  dialect: string;
  signed: boolean;
  oursMs: number[];
  smbclientMs: number[];
  oursOpenSessionMs: number[];
  medianOursMs: number;
  medianSmbclientMs: number;
  medianOursOpenSessionMs: number;
  ratio: number;
}

async function runSetting(setting: string, extraGlobal: string[], file: string): Promise<SettingResult> {
  const s = await startSamba({ extraGlobal });
  try {
    const u = s.users[0]!;
    // Warm-up (page cache, smbd forks), not counted.
    await oursOneShot(s, file);
    await smbclientPut(s, file);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate who goes first so neither always runs on a warmer server.
      if (r % 2 === 0) {
        ours.push(await oursOneShot(s, file));
        theirs.push(await smbclientPut(s, file));
      } else {
        theirs.push(await smbclientPut(s, file));
        ours.push(await oursOneShot(s, file));
      }
      console.log(`${setting} round ${r + 1}: ours ${ours.at(-1)!.toFixed(0)} ms, smbclient ${theirs.at(-1)!.toFixed(0)} ms`);
    }
    const c = await SmbClient.connect({ host: s.host, port: s.port, share: s.share, username: u.name, password: u.password });
    const open: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await settle(s, 'ours-open.bin');
      const t0 = performance.now();
      await c.put(file, 'ours-open.bin');
      open.push(performance.now() - t0);
    }
    const dialect = `0x${c.dialect.toString(16)}`;
    const signed = c.signed;
    await c.close();
    const mo = median(ours);
    const mt = median(theirs);
    return {
      setting, extraGlobal, dialect, signed,
      oursMs: ours.map(Math.round), smbclientMs: theirs.map(Math.round), oursOpenSessionMs: open.map(Math.round),
      medianOursMs: Math.round(mo), medianSmbclientMs: Math.round(mt), medianOursOpenSessionMs: Math.round(median(open)),
      ratio: Number((mo / mt).toFixed(3)),
    };
  } finally {
    await s.stop();
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'pitest-bench-'));
  try {
    const file = join(work, 'payload.bin');
    await writeFile(file, randomBytes(MIB * 1024 * 1024));
    const results = [
      await runSetting('defaults', [], file),
      await runSetting('signing required', ['server signing = mandatory'], file),
    ];
    const out = {
      benchmark: 'smb-put',
      date: new Date().toISOString(),
      fileMiB: MIB,
      rounds: ROUNDS,
      node: process.version,
      target: 'ours <= 1.1 x smbclient (median, one-shot)',
      results,
    };
    const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'smb-put.json'), `${JSON.stringify(out, null, 2)}\n`);
    const md = [
      '# SMB put benchmark',
      '',
      `${MIB} MiB file to a local smbd over loopback, ${ROUNDS} alternating rounds after one warm-up, ${out.date}, Node ${process.version}.`,
      'One-shot = connect, log on, copy, log off (smbclient: the whole process). Before each timed run the previous copy is',
      'deleted and `sync` flushes dirty pages (untimed). Generated by `node --import tsx bench/smb-put.ts`.',
      '',
      '| setting | dialect | signed | ours median (ms) | smbclient median (ms) | ratio | ours, open session (ms) |',
      '|---|---|---|---|---|---|---|',
      ...results.map((r) => `| ${r.setting} | ${r.dialect} | ${r.signed} | ${r.medianOursMs} | ${r.medianSmbclientMs} | ${r.ratio} | ${r.medianOursOpenSessionMs} |`),
      '',
      `Target: ratio <= 1.1. ${results.every((r) => r.ratio <= 1.1) ? 'Met in both settings.' : 'NOT met in every setting.'}`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'smb-put.md'), md);
    console.log(md);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
