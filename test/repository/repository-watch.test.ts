import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { InstallerRepository, type InstallerRepositoryOptions } from '../../src/repository/repository.ts';
import { installerName, memoryLogger, put, sha256, sleep, tempRepo, waitFor } from './helpers.ts';

const SETTLE = 300;
const linuxOnly = process.platform === 'linux' ? {} : { skip: 'open-for-writing detection needs /proc' };

/**
 * Watches a file while it is written and records every moment it was offered (installers() or select())
 * while still open. `isWriting` is true from just after the open to just before the close.
 */
function guard(repo: InstallerRepository, file: string, tag: string, isWriting: () => boolean) {
  const violations: string[] = [];
  let sawCopying = false;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      if (isWriting()) {
        if (repo.installers().some((i) => i.file === file)) violations.push('installers() listed the file while it was being written');
        if (repo.rejected().some((x) => x.file === file && /still being copied/.test(x.reason))) sawCopying = true;
        const chosen = await repo.select(tag).then((i) => i, (e: unknown) => e);
        if (!(chosen instanceof PushError) && isWriting()) violations.push(`select() returned ${JSON.stringify(chosen)} while the file was being written`);
        if (chosen instanceof PushError && chosen.code !== Codes.InstallerMissing) violations.push(`unexpected error ${chosen.code}`);
      }
      await sleep(15);
    }
  })();
  return {
    async done() {
      stop = true;
      await loop;
      return { violations, sawCopying };
    },
  };
}

describe('InstallerRepository: watching the folder', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let repo: InstallerRepository | undefined;
  beforeEach(async () => ({ dir, cleanup } = await tempRepo()));
  afterEach(async () => {
    await repo?.stop();
    repo = undefined;
    await cleanup();
  });

  async function startRepo(extra: Partial<InstallerRepositoryOptions> = {}) {
    const logger = memoryLogger();
    // CS_VERSION is required to select (the guard is always on): a ceiling above every version here.
    repo = new InstallerRepository({ dir, processServerId: 'ps1', csVersion: '99.0', settleMs: SETTLE, pollMs: 1000, debounceMs: 50, logger, ...extra });
    await repo.start();
    return { r: repo, logger };
  }
  const find = (r: InstallerRepository, file: string) => r.installers().find((i) => i.file === file);

  it('an installer present at start is offered at once, hashed', async () => {
    const file = installerName('9.30.0.0', 'RHEL7-64');
    const sha = await put(dir, file, 'v1');
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, file), past, past);
    const { r } = await startRepo();
    assert.equal(find(r, file)?.sha256, sha, 'offered by start() without waiting');
  });

  it('added, replaced and removed files become visible without restart (watcher only, no polling)', async () => {
    const { r, logger } = await startRepo({ pollMs: 600_000 });
    assert.equal(r.stats().watching, true);
    const file = installerName('9.30.0.0', 'UBUNTU-18.04-64');

    const sha1 = await put(dir, file, 'first content');
    await waitFor('the added file to be offered', () => find(r, file)?.sha256 === sha1);
    assert.equal((await r.select('UBUNTU-18.04-64')).sha256, sha1);

    const sha2 = await put(dir, file, 'second, longer content');
    await waitFor('the replaced file to be offered with its new SHA-256', () => find(r, file)?.sha256 === sha2);
    assert.equal(find(r, file)?.size, 'second, longer content'.length);
    assert.equal((await r.select('UBUNTU-18.04-64')).sha256, sha2);

    await unlink(join(dir, file));
    await waitFor('the removed file to disappear', () => find(r, file) === undefined);
    await assert.rejects(r.select('UBUNTU-18.04-64'), (e: unknown) => e instanceof PushError && e.code === Codes.InstallerMissing);

    const msgs = logger.lines.map((l) => l.msg);
    assert.ok(msgs.includes('installer added to the repository'), msgs.join('; '));
    assert.ok(msgs.includes('installer replaced in the repository'), msgs.join('; '));
    assert.ok(msgs.includes('installer removed from the repository'), msgs.join('; '));
    const replaced = logger.lines.find((l) => l.msg === 'installer replaced in the repository');
    assert.equal(replaced?.fields.previousSha256, sha1);
    assert.equal(replaced?.fields.sha256, sha2);
  });

  it('changes are picked up by polling alone (watch off, as on a network share)', async () => {
    const { r } = await startRepo({ watch: false, pollMs: 200 });
    assert.equal(r.stats().watching, false);
    const file = installerName('9.31.0.0', 'Windows');
    const sha = await put(dir, file, 'exe bytes');
    await waitFor('the file to be offered by polling', () => find(r, file)?.sha256 === sha);
    await unlink(join(dir, file));
    await waitFor('the file to disappear by polling', () => find(r, file) === undefined);
  });

  it('a file replaced by rename (same name, new content) gets the new SHA-256', async () => {
    const { r } = await startRepo();
    const file = installerName('9.30.0.0', 'RHEL8-64');
    const sha1 = await put(dir, file, randomBytes(10_000));
    await waitFor('first version offered', () => find(r, file)?.sha256 === sha1);
    const content = randomBytes(10_000); // same size: only the content differs
    await writeFile(join(dir, '.incoming.tmp'), content);
    await rename(join(dir, '.incoming.tmp'), join(dir, file));
    await waitFor('new SHA-256 after the rename', () => find(r, file)?.sha256 === sha256(content));
    assert.equal(r.rejected().length, 0, 'the dotfile temp was ignored');
  });

  it('a half-written file (chunks with pauses longer than the settle time, open for writing) is never selected', linuxOnly, async () => {
    const { r } = await startRepo();
    const file = installerName('9.32.0.0', 'DEBIAN9-64');
    const chunks = Array.from({ length: 5 }, () => randomBytes(64 * 1024));
    let writing = false;
    const g = guard(r, file, 'DEBIAN9-64', () => writing);
    const fh = await open(join(dir, file), 'w');
    writing = true;
    for (const c of chunks) {
      await fh.write(c);
      await sleep(SETTLE + 200); // quiet longer than settleMs: only the open-for-writing check holds it back
    }
    writing = false;
    await fh.close();
    const { violations, sawCopying } = await g.done();
    assert.deepEqual(violations, []);
    assert.ok(sawCopying, 'rejected() listed the file as still being copied');
    const full = Buffer.concat(chunks);
    await waitFor('the complete file to be offered', () => find(r, file)?.sha256 === sha256(full));
    assert.equal((await r.select('DEBIAN9-64')).size, full.length);
  });

  it('a file copied in chunks by another process is never selected until complete', linuxOnly, async () => {
    const { r } = await startRepo();
    const file = installerName('9.33.0.0', 'SLES15-64');
    const path = join(dir, file);
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(process.argv[1], 'w');
      process.stdout.write('opened\\n');
      let n = 0;
      const step = () => {
        if (n++ < 4) { fs.writeSync(fd, Buffer.alloc(32768, n)); setTimeout(step, ${SETTLE + 150}); return; }
        process.stdout.write('closing\\n');
        fs.closeSync(fd);
      };
      step();`;
    let writing = false;
    const child = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      if (s.includes('opened')) writing = true;
      if (s.includes('closing')) writing = false;
    });
    await waitFor('the child to open the file', () => writing);
    const g = guard(r, file, 'SLES15-64', () => writing);
    assert.equal(await exited, 0);
    const { violations, sawCopying } = await g.done();
    assert.deepEqual(violations, []);
    assert.ok(sawCopying);
    const expected = Buffer.concat([1, 2, 3, 4].map((n) => Buffer.alloc(32768, n)));
    await waitFor('the complete file to be offered', () => find(r, file)?.sha256 === sha256(expected));
  });

  it('a file appended in chunks, closed between them (pauses well below the settle time), is never selected', async () => {
    // Closed between chunks, so only the settle time holds it back (as on platforms without /proc).
    const settleMs = 800;
    const { r } = await startRepo({ settleMs });
    const file = installerName('9.34.0.0', 'OL8-64');
    let writing = false;
    const g = guard(r, file, 'OL8-64', () => writing);
    writing = true;
    const chunks: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      const c = randomBytes(16 * 1024);
      chunks.push(c);
      await appendFile(join(dir, file), c);
      await sleep(settleMs / 16);
    }
    writing = false;
    const { violations, sawCopying } = await g.done();
    assert.deepEqual(violations, []);
    assert.ok(sawCopying);
    await waitFor('the complete file to be offered', () => find(r, file)?.sha256 === sha256(Buffer.concat(chunks)));
  });

  it('an installer rewritten in place is withdrawn while being rewritten, then offered with the new SHA-256', linuxOnly, async () => {
    const { r, logger } = await startRepo();
    const file = installerName('9.30.0.0', 'RHEL6-64');
    const sha1 = await put(dir, file, randomBytes(50_000));
    await waitFor('first version offered', () => find(r, file)?.sha256 === sha1);
    const fh = await open(join(dir, file), 'w');
    let writing = true;
    const first = randomBytes(20_000);
    await fh.write(first);
    await waitFor('the rewrite to be noticed', () => r.rejected().some((x) => x.file === file && /still being copied/.test(x.reason)));
    const g = guard(r, file, 'RHEL6-64', () => writing);
    const rest = randomBytes(30_000);
    await sleep(SETTLE + 200);
    await fh.write(rest);
    await sleep(SETTLE + 200);
    writing = false;
    await fh.close();
    const { violations } = await g.done();
    assert.deepEqual(violations, []);
    const sha2 = sha256(Buffer.concat([first, rest]));
    await waitFor('new SHA-256 offered', () => find(r, file)?.sha256 === sha2);
    assert.ok(logger.lines.some((l) => l.msg === 'installer is being rewritten; withdrawn until the copy is complete'));
    assert.ok(logger.lines.some((l) => l.msg === 'installer replaced in the repository' && l.fields.sha256 === sha2));
  });

  it('starts on a missing folder (not readable), and serves it once it appears', async () => {
    const sub = join(dir, 'later');
    repo = new InstallerRepository({ dir: sub, processServerId: 'ps1', csVersion: '99.0', settleMs: 0, pollMs: 200, debounceMs: 50 });
    await repo.start();
    assert.equal(await repo.readable(), false);
    assert.deepEqual(repo.installers(), []);
    await mkdir(sub);
    const file = installerName('9.30.0.0', 'SLES11-SP3-64');
    const sha = await put(sub, file);
    await waitFor('the file in the new folder to be offered', () => find(repo as InstallerRepository, file)?.sha256 === sha);
    assert.equal(await repo.readable(), true);
    const r = repo;
    await waitFor('the folder to be watched again', () => r.stats().watching);
  });

  it('after stop() nothing changes any more', async () => {
    const { r } = await startRepo({ pollMs: 100 });
    await r.stop();
    await put(dir, installerName('9.30.0.0', 'RHEL7-64'));
    await sleep(400);
    assert.deepEqual(r.installers(), []);
    assert.equal(r.stats().watching, false);
  });
});
