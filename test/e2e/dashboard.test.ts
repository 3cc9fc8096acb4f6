// The operator dashboard (/ui) in real headless Chromium against a daemon and lab guests: sign-in, a push
// watched live from NotStarted to Succeeded without a reload, Failed and Warning jobs with their error
// text and action, what an operator and a portal token may do, and a cancel from the page.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { BULL_PREFIX, queueName } from '../../src/jobs/queues.ts';
import { launchChromium, screenshot } from '../lab/browser.ts';
import { installerFileName } from '../lab/installers.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { createWindowsAccount, windowsMachineFor } from '../lab/windows-fixtures.ts';
import { createWindowsGuest, type WindowsGuest } from '../lab/windows-guest.ts';
import { buildWindowsInstaller } from '../lab/windows-installer.ts';
import { createLinuxAccount, enable, machineFor, startLab, until, waitForInstallers, waitForJob, type JobBody, type Lab } from './fixtures.ts';

describe('dashboard in Chromium', () => {
  let lab: Lab;
  let browser: Browser;
  let ok: LinuxGuest;
  let failing: LinuxGuest;
  let slow: LinuxGuest;
  let vss: WindowsGuest;
  let linuxAccount: string;
  let windowsAccount: string;
  const finished: Record<string, string> = {};

  before(async () => {
    browser = await launchChromium();
    lab = await startLab({ installers: [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }] });
    buildWindowsInstaller(path.join(lab.repo, installerFileName('9.30.0.0', 'Windows')), '9.30.0.0');
    const passphrase = lab.daemon.passphrase;
    [ok, failing, slow, vss] = await Promise.all([
      createLinuxGuest({ name: 'dash-ok', os: 'ubuntu-20.04', behaviour: { passphrase, installSleep: 1 } }),
      createLinuxGuest({ name: 'dash-fail', os: 'ubuntu-20.04', behaviour: { passphrase, installExit: 17, installMessage: 'ERROR: kernel 5.4.0-999 is not supported by this agent' } }),
      createLinuxGuest({ name: 'dash-slow', os: 'ubuntu-20.04', behaviour: { passphrase, installSleep: 60 } }),
      createWindowsGuest({ name: 'dashvss', windowsVersion: '2016', behaviour: { passphrase, installExit: 511 } }),
      waitForInstallers(lab.daemon, 2),
    ]);
    linuxAccount = await createLinuxAccount(lab.daemon, ok.users.root);
    windowsAccount = await createWindowsAccount(lab.daemon, vss.account);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([ok, failing, slow].map((g) => g?.destroy()));
    await vss?.stop();
    await lab?.stop();
  });

  /** A fresh tab (own sessionStorage) signed in with the token. */
  async function signedIn(token: string, hash = '#/jobs'): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    await page.goto(`${lab.daemon.url}/ui/${hash}`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top');
    return page;
  }

  it('signs in with a pasted token, says so when the token is wrong, keeps it in sessionStorage only', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${lab.daemon.url}/ui`);
    await page.fill('#token', 'pit_not-a-token');
    await page.click('button[type=submit]');
    assert.match(await page.locator('.problem').innerText(), /not valid/);
    await screenshot(page, 'sign-in');
    await page.fill('#token', lab.daemon.tokens.admin);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-nav=jobs].active');
    assert.equal(await page.evaluate('sessionStorage.getItem("pushinstalld.token")'), lab.daemon.tokens.admin);
    assert.equal(await page.evaluate('localStorage.length'), 0);
    await page.context().close();
  });

  it('watches a push live from NotStarted to Succeeded without a reload', async () => {
    const page = await signedIn(lab.daemon.tokens.admin);
    await page.waitForSelector('[data-live=live]');
    let loads = 0;
    page.on('load', () => { loads++; });
    // Hold the queue so the job is seen waiting, then let it run.
    const conn = new Redis(lab.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName('cs'), { connection: conn, prefix: BULL_PREFIX });
    await queue.pause();
    const [job] = await enable(lab.daemon, [machineFor(ok, linuxAccount, { displayName: 'web-01' })], lab.daemon.tokens.portal);
    const id = (job as { id: string }).id;
    const row = page.locator(`tr[data-job="${id}"]`);
    await row.locator('[data-state=NotStarted]').waitFor();
    assert.equal(await page.locator('[data-count=NotStarted] b').innerText(), '1');
    await row.click();
    await page.waitForSelector(`section.job[data-job="${id}"][data-state=NotStarted]`);
    const seen = new Set<string>();
    const watch = setInterval(() => { void page.locator('section.job').getAttribute('data-state').then((s) => { if (s) seen.add(s); }, () => undefined); }, 50);
    await queue.resume();
    await page.waitForSelector(`section.job[data-job="${id}"][data-state=Succeeded]`, { timeout: 30_000 });
    clearInterval(watch);
    await queue.close();
    conn.disconnect();
    assert.ok(seen.has('InProgress'), `the page showed the job running (saw ${[...seen].join(', ')})`);
    assert.equal(loads, 0, 'no reload');
    for (const name of ['CopyInstaller', 'PrerequisiteCheck', 'InstallMobilityService', 'RegisterWithConfigurationServer']) {
      assert.equal(await page.locator(`[data-task=${name}] .badge`).innerText(), 'Succeeded');
    }
    assert.equal(await page.locator('[data-task=InstallVssProvider] .badge').innerText(), 'Skipped');
    assert.match(await page.locator('[data-fact=Installer]').innerText(), /Microsoft-ASR_UA_9\.30\.0\.0_UBUNTU-20\.04-64/);
    await page.waitForFunction('/verified SHA-256/.test(document.querySelector(".joblog")?.textContent ?? "")');
    await screenshot(page, 'job-succeeded');
    await page.click('a[href="#/jobs"]');
    await page.locator(`tr[data-job="${id}"] [data-state=Succeeded]`).waitFor();
    assert.equal(loads, 0, 'no reload');
    finished.ok = id;
    await page.context().close();
  });

  it('shows a Failed and a Warning job with their error text and recommended action', async () => {
    const page = await signedIn(lab.daemon.tokens.admin);
    const [failed] = await enable(lab.daemon, [machineFor(failing, linuxAccount)]);
    const [warned] = await enable(lab.daemon, [windowsMachineFor(vss, windowsAccount)]);
    const failedJob = await waitForJob<JobBody>(lab.daemon, (failed as { id: string }).id);
    const warnedJob = await waitForJob<JobBody>(lab.daemon, (warned as { id: string }).id);
    assert.equal(failedJob.state, 'Failed');
    assert.equal(warnedJob.state, 'Warning');
    finished.failed = failedJob.id;
    await page.locator(`tr.row-Failed[data-job="${failedJob.id}"]`).waitFor();
    await page.locator(`tr.row-Warning[data-job="${warnedJob.id}"]`).waitFor();
    assert.match(await page.locator(`tr[data-job="${failedJob.id}"] td.now`).innerText(), /99003/);
    await screenshot(page, 'jobs');

    await page.goto(`${lab.daemon.url}/ui/#/jobs/${failedJob.id}`);
    const card = page.locator('.job-errors .error-card[data-code="99003"]');
    await card.waitFor();
    assert.match(await card.locator('.msg').innerText(), /exit code 17/);
    assert.equal(await card.locator('.action').innerText(), failedJob.errors[0]?.recommendedAction);
    assert.match(await card.locator('.logtail').innerText(), /kernel 5\.4\.0-999 is not supported/);
    await screenshot(page, 'job-failed');

    await page.goto(`${lab.daemon.url}/ui/#/jobs/${warnedJob.id}`);
    const vssCard = page.locator('[data-task=InstallVssProvider] .error-card[data-code="99015"]');
    await vssCard.waitFor();
    assert.match(await vssCard.locator('.action').innerText(), /InMageVSSProvider_Install\.cmd/);
    assert.match(await page.locator('.job-errors h2').innerText(), /Warnings/);
    await screenshot(page, 'job-warning');
    await page.context().close();
  });

  it('operator: no Cancel on a finished job, a forced one shows the refusal; portal: the 403 message', async () => {
    const page = await signedIn(lab.daemon.tokens.operator, `#/jobs/${finished.ok}`);
    await page.waitForSelector('section.job[data-state=Succeeded]');
    assert.equal(await page.locator('[data-action=cancel]').isVisible(), false, 'no Cancel on a finished job');
    assert.equal(await page.locator('[data-action=restart]').isVisible(), true);
    // Forcing it (a stale page, or devtools): the API's refusal is shown, nothing changes.
    await page.evaluate('document.querySelector("[data-action=cancel]").removeAttribute("hidden")');
    await page.click('[data-action=cancel]');
    assert.match(await page.locator('.actions .problem').innerText(), /has already ended \(Succeeded\)/);
    await page.context().close();

    const portal = await signedIn(lab.daemon.tokens.portal, '#/accounts');
    const problem = portal.locator('.problem[data-status="403"]');
    await problem.waitFor();
    assert.match(await problem.innerText(), /Your token's role may not do this: role portal may not GET \/api\/v1\/run-as-accounts/);
    await portal.goto(`${lab.daemon.url}/ui/#/repository`);
    await portal.click('[data-action=rescan]');
    assert.match(await portal.locator('.problem[data-status="403"]').innerText(), /role portal may not POST \/api\/v1\/repository\/rescan/);
    await portal.context().close();
  });

  it('cancels a running job from the page', async () => {
    const page = await signedIn(lab.daemon.tokens.operator);
    const [job] = await enable(lab.daemon, [machineFor(slow, linuxAccount)]);
    const id = (job as { id: string }).id;
    await page.click(`tr[data-job="${id}"]`);
    await page.waitForSelector('[data-task=InstallMobilityService][class*=s-InProgress]', { timeout: 30_000 });
    await page.click('[data-action=cancel]');
    await page.waitForSelector(`section.job[data-job="${id}"][data-state=Cancelled]`, { timeout: 20_000 });
    const record = await waitForJob<JobBody>(lab.daemon, id);
    assert.equal(record.state, 'Cancelled');
    assert.equal(record.errors[0]?.code, 99008);
    await until('staging folder removed', async () => !slow.exists(`/tmp/pushinstall-${id}`));
    await page.context().close();
  });

  it('repository, accounts and process servers views', async () => {
    const page = await signedIn(lab.daemon.tokens.admin, '#/repository');
    await page.waitForSelector('tr[data-tag="UBUNTU-20.04-64"]');
    assert.match(await page.locator('.repository').innerText(), /Microsoft-ASR_UA_9\.30\.0\.0_RHEL5-64_GA_<ddMonyyyy>_release\.tar\.gz/);
    await screenshot(page, 'repository');
    await page.click('[data-nav=accounts]');
    await page.waitForSelector(`tr[data-account="${linuxAccount}"]`);
    assert.doesNotMatch(await page.locator('.accounts').innerText(), new RegExp(ok.users.root.password));
    await screenshot(page, 'accounts');
    await page.click('[data-nav=process-servers]');
    await page.waitForSelector('tr[data-server=cs]');
    await screenshot(page, 'process-servers');
    await page.context().close();
  });
});
