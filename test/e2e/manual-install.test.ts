// Manual installs from the repository (issue 14): an offered installer's bytes (Content-Length, ETag =
// SHA-256, Range, Content-Disposition; 404 for anything not offered, traversal included), the documented
// command lines per OS, and the eligible flag under the CS_VERSION ceiling.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installerFileName } from '../lab/installers.ts';
import { startLab, until, type Lab } from './fixtures.ts';

interface Installer { file: string; osTag: string; version: string; sha256: string; size: number; eligible: boolean }
interface Lines {
  installer: { file: string; osTag: string; version: string; sha256: string; download: string };
  stagingFolder: string; installLocation: string; steps: Array<{ what: string; command: string }>; placeholders: Record<string, string>;
}

const MiB = 1024 * 1024;
const BIG = installerFileName('9.30.0.0', 'UBUNTU-20.04-64');
const WIN = installerFileName('9.30.0.0', 'Windows');
const NEWER = installerFileName('9.31.0.0', 'RHEL7-64');

describe('manual install from the repository', () => {
  let lab: Lab;
  const get = (route: string, headers: Record<string, string> = {}, token?: string) =>
    fetch(lab.daemon.url + route, { headers: { authorization: `Bearer ${token ?? lab.daemon.tokens.operator}`, ...headers } });
  const content = (file: string) => `/api/v1/repository/installers/${file}/content`;

  before(async () => {
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0', padMiB: 50 }, { tag: 'RHEL7-64', version: '9.31.0.0' }], env: { CS_VERSION: '9.30.0.0' } });
    writeFileSync(path.join(lab.repo, WIN), 'MZ windows installer stand-in');
    writeFileSync(path.join(lab.repo, 'notes.txt'), 'not an installer');
    await until('the Windows installer to be offered', async () => {
      const b = (await lab.daemon.api<{ installers: Installer[] }>('GET', '/api/v1/repository/installers')).body;
      return b.installers.length === 3;
    });
  });
  after(async () => { await lab?.stop(); });

  it('the listing says which installers may be pushed here: eligible is false above CS_VERSION', async () => {
    const { installers } = (await lab.daemon.api<{ installers: Installer[] }>('GET', '/api/v1/repository/installers')).body;
    assert.deepEqual(Object.fromEntries(installers.map((i) => [i.file, i.eligible])), { [BIG]: true, [WIN]: true, [NEWER]: false });
  });

  it('downloads a 50 MiB installer whole: Content-Length, ETag = SHA-256, Content-Disposition, same bytes', async () => {
    const onDisk = readFileSync(path.join(lab.repo, BIG));
    assert.ok(onDisk.length > 50 * MiB);
    const sha = createHash('sha256').update(onDisk).digest('hex');
    const res = await get(content(BIG));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(onDisk.length));
    assert.equal(res.headers.get('etag'), `"${sha}"`);
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${BIG}"`);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('sha256').update(body).digest('hex'), sha);
    assert.equal((await get(content(BIG), { 'if-none-match': `"${sha}"` })).status, 304);
  });

  it('serves byte ranges (206 with Content-Range) and refuses unsatisfiable ones (416)', async () => {
    const onDisk = readFileSync(path.join(lab.repo, BIG));
    const mid = await get(content(BIG), { range: 'bytes=1000-1999' });
    assert.equal(mid.status, 206);
    assert.equal(mid.headers.get('content-range'), `bytes 1000-1999/${onDisk.length}`);
    assert.equal(mid.headers.get('content-length'), '1000');
    assert.deepEqual(Buffer.from(await mid.arrayBuffer()), onDisk.subarray(1000, 2000));
    const tail = await get(content(BIG), { range: 'bytes=-16' });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), onDisk.subarray(onDisk.length - 16));
    const rest = await get(content(BIG), { range: `bytes=${onDisk.length - 10}-` });
    assert.equal((await rest.arrayBuffer()).byteLength, 10);
    const beyond = await get(content(BIG), { range: `bytes=${onDisk.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${onDisk.length}`);
  });

  it('404 for anything not offered: traversal, encoded slashes, a rejected file, a name not in the folder', async () => {
    for (const name of ['..', '..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%5c..%5cwindows', 'notes.txt', `sub%2f${BIG}`, `${BIG}.part`, 'x']) {
      const res = await get(content(name));
      assert.equal(res.status, 404, name);
      const text = await res.text();
      assert.ok(!text.includes('root:'), name);
    }
    // Raw "../" segments are resolved by the URL before the request: they never reach a file either.
    const raw = await fetch(`${lab.daemon.url}/api/v1/repository/installers/../../../etc/passwd/content`, { headers: { authorization: `Bearer ${lab.daemon.tokens.admin}` } });
    assert.equal(raw.status, 404);
  });

  it('operator and admin may download; the portal may not', async () => {
    assert.equal((await get(content(WIN), {}, lab.daemon.tokens.admin)).status, 200);
    assert.equal((await get(content(WIN), {}, lab.daemon.tokens.portal)).status, 403);
  });

  it('Windows: the installer to use and the documented command lines, CS_ENDPOINT filled in, no passphrase', async () => {
    const res = await lab.daemon.api<Lines>('GET', '/api/v1/repository/manual-install?osTag=Windows', undefined, lab.daemon.tokens.operator);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.installer.file, WIN);
    assert.equal(res.body.installer.download, `/api/v1/repository/installers/${WIN}/content`);
    assert.equal(res.body.installer.sha256, createHash('sha256').update(readFileSync(path.join(lab.repo, WIN))).digest('hex'));
    assert.deepEqual(res.body.steps.map((s) => s.command), [
      'cd /d C:\\Temp',
      `${WIN} /q /x:"C:\\Temp\\Extracted"`,
      'cd /d C:\\Temp\\Extracted && UnifiedAgent.exe /Role "MS" /InstallLocation "C:\\Program Files (x86)\\Microsoft Azure Site Recovery" /Platform "VmWare" /Silent',
      'cd /d "C:\\Program Files (x86)\\Microsoft Azure Site Recovery\\agent" && UnifiedAgentConfigurator.exe /CSEndPoint 10.0.0.4 /PassphraseFilePath "<passphrase file>"',
    ]);
    assert.ok(res.body.placeholders['<passphrase file>']);
    assert.ok(!res.text.includes(lab.daemon.passphrase), 'the passphrase is never returned');
  });

  it('Linux (by tag and by OS name): tar -xvf, ./install, UnifiedAgentConfigurator.sh', async () => {
    const byTag = await lab.daemon.api<Lines>('GET', '/api/v1/repository/manual-install?osTag=UBUNTU-20.04-64', undefined, lab.daemon.tokens.admin);
    assert.equal(byTag.status, 200, byTag.text);
    assert.deepEqual(byTag.body.steps.map((s) => s.command), [
      'cd /tmp/MobilityService',
      `tar -xvf ${BIG}`,
      './install -d /usr/local/ASR -r MS -v VmWare -q',
      "/usr/local/ASR/Vx/bin/UnifiedAgentConfigurator.sh -i 10.0.0.4 -P '<passphrase file>'",
    ]);
    assert.equal(byTag.body.installer.version, '9.30.0.0');
    const byName = await lab.daemon.api<Lines>('GET', `/api/v1/repository/manual-install?osName=${encodeURIComponent('Ubuntu 20.04.3 LTS')}`, undefined, lab.daemon.tokens.admin);
    assert.deepEqual(byName.body, byTag.body);
    assert.ok(!byTag.text.includes(lab.daemon.passphrase));
  });

  it('a manually placed tag that is missing (RHEL5-64): 404 naming the file pattern to place; newer only: 409', async () => {
    const res = await lab.daemon.api<{ code: number; message: string; details: { filePattern: string } }>('GET', '/api/v1/repository/manual-install?osTag=RHEL5-64', undefined, lab.daemon.tokens.operator);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 99001);
    assert.equal(res.body.details.filePattern, 'Microsoft-ASR_UA_<version>_RHEL5-64_GA_<ddMonyyyy>_release.tar.gz');
    assert.match(res.body.message, /Microsoft-ASR_UA_<version>_RHEL5-64_GA_<ddMonyyyy>_release\.tar\.gz/);
    const newer = await lab.daemon.api<{ code: number }>('GET', '/api/v1/repository/manual-install?osTag=RHEL7-64', undefined, lab.daemon.tokens.operator);
    assert.equal(newer.status, 409);
    assert.equal(newer.body.code, 99018);
    const bad = await lab.daemon.api('GET', '/api/v1/repository/manual-install?osTag=RHEL7-64&osName=x', undefined, lab.daemon.tokens.operator);
    assert.equal(bad.status, 400);
  });

  it('the CLI: repository download (SHA-256 checked against the ETag) and repository manual-install', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pi-cli-'));
    try {
      const env = { ...process.env, PUSHINSTALLD_URL: lab.daemon.url, PUSHINSTALLD_TOKEN: lab.daemon.tokens.operator, DATA_DIR: dir };
      const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve('src/cli/main.ts'), ...args], { env, cwd: process.cwd() });
      const out = path.join(dir, 'agent.exe');
      const dl = await cli('repository', 'download', WIN, '--out', out);
      assert.deepEqual(readFileSync(out), readFileSync(path.join(lab.repo, WIN)));
      assert.match(dl.stdout, /sha256 [0-9a-f]{64}/);
      const lines = JSON.parse((await cli('repository', 'manual-install', '--os-tag', 'Windows', '--json')).stdout) as Lines;
      assert.equal(lines.installer.file, WIN);
      await assert.rejects(cli('repository', 'download', 'notes.txt'), /404/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
