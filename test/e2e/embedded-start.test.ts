// `npm start` on a fresh machine: no REDIS_URL, so the daemon starts its own redis-server under
// DATA_DIR (AOF on), creates tokens.json (one admin token, printed once, stored as a hash) and
// vault.key (0600), serves the API, and on SIGTERM stops everything and exits 0. A bad setting stops
// start-up with a message naming the variable.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnDaemon } from '../lab/daemon-process.ts';
import { hashToken } from '../../src/api/tokens.ts';
import { duplicateKeys } from '../lab/json-keys.ts';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('the daemon on its own (embedded Redis)', () => {
  it('starts redis-server itself, makes its token and key files, serves, and shuts down cleanly', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pi-embedded-'));
    const port = await freePort();
    try {
      const d = spawnDaemon({ DATA_DIR: dataDir, PORT: String(port), REPOSITORY_DIR: path.join(dataDir, 'repository-missing') });
      await d.waitFor(/API listening/);
      await d.waitFor(/keep it safe\):\s+pit_\S+\s/);
      const token = /^\s+(pit_\S+)\s*$/m.exec(d.output())?.[1];
      assert.ok(token, 'the admin token is printed at first start');
      const tokens = JSON.parse(readFileSync(path.join(dataDir, 'tokens.json'), 'utf8')) as { tokens: Array<{ role: string; sha256: string }> };
      assert.deepEqual(tokens.tokens.map((t) => [t.role, t.sha256]), [['admin', hashToken(token)]]);
      assert.ok(!readFileSync(path.join(dataDir, 'tokens.json'), 'utf8').includes(token), 'only the hash is stored');
      assert.equal(statSync(path.join(dataDir, 'vault.key')).mode & 0o777, 0o600);
      assert.ok(readdirSync(path.join(dataDir, 'redis')).includes('appendonlydir'), 'AOF on');
      const redisPid = Number(/"port":\d+,"dir":"[^"]+","redisPid":(\d+)/.exec(d.output())?.[1]);
      assert.ok(redisPid > 0 && alive(redisPid));

      const jobs = await fetch(`http://127.0.0.1:${port}/api/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(jobs.status, 200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 503, 'the repository folder does not exist: not ready');
      const readyText = await ready.text();
      assert.match(readyText, /"repository":"unreadable"/);
      // No CS_VERSION (nor CS_ENDPOINT, CS_PASSPHRASE_FILE): the API runs and says what pushes lack.
      assert.match(readyText, /"missing":\["CS_VERSION","CS_ENDPOINT","CS_PASSPHRASE_FILE"\]/);
      assert.match(d.output(), /CS_VERSION, CS_ENDPOINT, CS_PASSPHRASE_FILE not set: jobs that push an agent fail with 99016/);

      d.kill('SIGTERM');
      const exit = await d.exited();
      assert.equal(exit.code, 0);
      // Not a terminal: JSON lines (LOG_FORMAT's default), none with a key twice (pid was, once).
      const logLines = d.output().split('\n').filter((l) => l.startsWith('{'));
      assert.ok(logLines.length >= 4);
      for (const line of logLines) assert.deepEqual(duplicateKeys(line), [], line);
      assert.ok(!alive(redisPid), 'the embedded redis-server is stopped with the daemon');
      assert.ok(!existsSync(path.join(dataDir, 'redis', 'url')));

      // Second start: same token file, no new token printed.
      const again = spawnDaemon({ DATA_DIR: dataDir, PORT: String(port), REPOSITORY_DIR: dataDir });
      await again.waitFor(/API listening/);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!/pit_/.test(again.output()), 'the token is printed only once');
      const ok = await fetch(`http://127.0.0.1:${port}/api/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, 'the first token still works');
      again.kill('SIGTERM');
      assert.equal((await again.exited()).code, 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a bad setting stops start-up with a message naming the variable (exit 2)', async () => {
    const d = spawnDaemon({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'pi-bad-')), WORKER_CONCURRENCY: 'lots' });
    const exit = await d.exited();
    assert.equal(exit.code, 2);
    assert.match(d.output(), /invalid configuration: WORKER_CONCURRENCY must be an integer, got "lots"/);
  });

  it('LOG_FORMAT=pretty writes lines for a person; a bad LOG_FORMAT stops start-up naming it', async () => {
    const bad = spawnDaemon({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'pi-bad-')), LOG_FORMAT: 'xml' });
    assert.equal((await bad.exited()).code, 2);
    assert.match(bad.output(), /invalid configuration: LOG_FORMAT must be pretty or json, got "xml"/);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pi-pretty-'));
    try {
      const d = spawnDaemon({ DATA_DIR: dataDir, PORT: String(await freePort()), LOG_FORMAT: 'pretty', REPOSITORY_DIR: dataDir });
      await d.waitFor(/INFO.*API listening/);
      await d.waitFor(/keep it safe\):\s+pit_\S+\s/); // then the signal handlers are in place
      assert.match(d.output(), /INFO.*embedded redis-server started\n\s+port: \d+/);
      assert.ok(!/^\{"level"/m.test(d.output()), 'no JSON lines');
      d.kill('SIGTERM');
      const exit = await d.exited();
      assert.equal(exit.code, 0, `${JSON.stringify(exit)}\n${d.output().slice(-2000)}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('CS_ENDPOINT must be an IP address, as documented: a host name stops start-up (exit 2)', async () => {
    const d = spawnDaemon({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'pi-bad-')), CS_ENDPOINT: 'cs.contoso.local' });
    const exit = await d.exited();
    assert.equal(exit.code, 2);
    assert.match(d.output(), /invalid configuration: CS_ENDPOINT must be the configuration server's IPv4 or IPv6 address, got "cs\.contoso\.local"/);
  });
});
