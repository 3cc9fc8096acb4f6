// Job detail: machine, OS, installer, task timeline, errors, attempts, the live log; Cancel / Restart as allowed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, follow } from './api.js';
import { Badge, duration, ErrorCard, FINAL, html, Problem, time } from './ui.js';

function Facts({ job }) {
  const os = job.machine.os;
  const rows = [
    ['Machine', `${job.machine.displayName} (${job.machine.machineId})`], ['Address', job.machine.address],
    ['OS', [os.family, os.name, os.tag].filter(Boolean).join(' · ')], ['Type', job.type], ['Process server', job.processServerId],
    ['Installer', job.installer?.file ?? '—'], ['Agent version', job.agentVersion ?? '—'], ['SHA-256', job.installer?.sha256 ?? '—'],
    ['Created', time(job.createdAt)], ['Started', time(job.startedAt) || '—'], ['Ended', time(job.endedAt) || '—'],
    ['Duration', job.startedAt ? duration(job.startedAt, job.endedAt) : '—'], ['Attempts', String(job.attempts)],
  ];
  if (job.restartOf) rows.push(['Restart of', html`<a href=${`#/jobs/${job.restartOf}`}>${job.restartOf}</a>`]);
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd data-fact=${k}>${v}</dd>`)}</dl>`;
}

function Tasks({ job }) {
  return html`
    <ol class="timeline">${job.tasks.map((t) => html`
      <li class=${`task s-${t.state}`} data-task=${t.name}>
        <div class="task-head"><${Badge} state=${t.state} /> <b>${t.name}</b>
          <span class="sub">${t.startedAt ? `${time(t.startedAt)} · ${duration(t.startedAt, t.endedAt)}` : ''}</span></div>
        ${t.message ? html`<div class="task-msg">${t.message}</div>` : null}
        ${t.errors.map((e) => html`<${ErrorCard} error=${e} />`)}
      </li>`)}</ol>`;
}

function Attempts({ job }) {
  const log = job.attemptLog ?? [];
  if (log.length === 0) return html`<p class="empty">Not started yet.</p>`;
  return html`
    <table class="list attempts"><thead><tr><th>#</th><th>Worker</th><th>Process server</th><th>Started</th><th>Ended</th><th>Why it ended</th></tr></thead>
      <tbody>${log.map((a) => html`<tr>
        <td>${a.attempt}</td><td><code>${a.worker}</code></td><td>${a.processServerId}</td><td>${time(a.startedAt)}</td><td>${time(a.endedAt)}</td>
        <td>${a.error ? html`<span class="code">${a.error.code}</span> ${a.error.message}` : a.endedAt ? 'ended' : 'running'}${a.retryAt ? html`<div class="sub">retry at ${time(a.retryAt)}</div>` : null}</td>
      </tr>`)}</tbody></table>`;
}

function Actions({ job, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const act = async (action) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api('POST', `/api/v1/jobs/${job.id}/${action}`);
      if (action === 'restart' && res.jobs?.[0]) location.hash = `#/jobs/${res.jobs[0].id}`;
      else onDone();
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  // Only what the job allows now (the API's allowedActions); the API's answer (403, 409) is shown as is.
  const allowed = new Set(job.allowedActions);
  return html`
    <div class="actions">
      <button class="danger" data-action="cancel" hidden=${!allowed.has('Cancel')} disabled=${busy} onClick=${() => act('cancel')}>Cancel</button>
      <button data-action="restart" hidden=${!allowed.has('Restart')} disabled=${busy} onClick=${() => act('restart')}>Restart</button>
      ${job.cancelRequested ? html`<span class="sub">cancel requested…</span>` : null}
      <${Problem} error=${error} />
    </div>`;
}

export function JobView({ id }) {
  const [job, setJob] = useState(null);
  const [log, setLog] = useState('');
  const [error, setError] = useState(null);
  const timer = useRef(null);

  const load = () => Promise.all([
    api('GET', `/api/v1/jobs/${id}`).then(setJob),
    api('GET', `/api/v1/jobs/${id}/log`).then((t) => setLog(String(t))),
  ]).then(() => setError(null), setError);

  useEffect(() => {
    setJob(null);
    void load();
    const stop = follow(`/api/v1/jobs/${id}/events`, {
      onEvent: (ev) => {
        // Coalesce a burst of task changes into one read; the final event carries the whole job.
        if (ev.job) { setJob(ev.job); void load(); return 'stop'; }
        timer.current ??= setTimeout(() => { timer.current = null; void load(); }, 150);
        return undefined;
      },
    });
    return () => { stop(); clearTimeout(timer.current); timer.current = null; };
  }, [id]);

  // Log lines have no change events: while the job runs, read the log again every 2 s.
  const running = job && !FINAL.has(job.state);
  useEffect(() => {
    if (!running) return undefined;
    const t = setInterval(() => api('GET', `/api/v1/jobs/${id}/log`).then((x) => setLog(String(x)), () => undefined), 2000);
    return () => clearInterval(t);
  }, [id, running]);

  if (!job) return html`<section><${Problem} error=${error} />${error ? null : html`<p>Loading job ${id}…</p>`}</section>`;
  return html`
    <section class="job" data-job=${job.id} data-state=${job.state}>
      <header class="view-head"><a href="#/jobs">← Jobs</a><h1>${job.machine.displayName}</h1><${Badge} state=${job.state} />
        <${Actions} job=${job} onDone=${load} /></header>
      <${Problem} error=${error} />
      ${job.errors.length ? html`<div class=${`job-errors s-${job.state}`}><h2>${job.state === 'Warning' ? 'Warnings' : 'Errors'}</h2>
        ${job.errors.map((e) => html`<${ErrorCard} error=${e} />`)}</div>` : null}
      <div class="cols"><div><h2>Job</h2><${Facts} job=${job} /></div><div><h2>Tasks</h2><${Tasks} job=${job} /></div></div>
      <h2>Attempts</h2><${Attempts} job=${job} />
      <h2>Log</h2><pre class="joblog" data-testid="job-log">${log || '(empty)'}</pre>
    </section>`;
}
