// Jobs: newest first, filters, counts per state, paging; live from the global change stream (no polling).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, follow, gauges } from './api.js';
import { Badge, duration, html, JOB_STATES, JOB_TYPES, Problem, time } from './ui.js';

const PAGE = 25;

function matches(job, f) {
  return (!f.state || job.state === f.state) && (!f.type || job.type === f.type)
    && (!f.machineId || job.machine.machineId === f.machineId) && (!f.processServerId || job.processServerId === f.processServerId);
}

function query(f, cursor) {
  const p = new URLSearchParams({ limit: String(PAGE) });
  for (const [k, v] of Object.entries(f)) if (v) p.set(k, v);
  if (cursor) p.set('cursor', cursor);
  return `/api/v1/jobs?${p}`;
}

function currentTask(job) {
  const t = job.tasks.find((x) => x.state === 'InProgress');
  return t ? t.name : '';
}

function Row({ job }) {
  const err = job.errors[0];
  return html`
    <tr class=${`job row-${job.state}`} data-job=${job.id} onClick=${() => { location.hash = `#/jobs/${job.id}`; }}>
      <td><${Badge} state=${job.state} /></td>
      <td><a href=${`#/jobs/${job.id}`}>${job.machine.displayName || job.machine.machineId}</a><div class="sub">${job.machine.address}</div></td>
      <td>${job.type}</td>
      <td>${job.machine.os.family}${job.machine.os.tag ? ` · ${job.machine.os.tag}` : ''}</td>
      <td>${job.processServerId}</td>
      <td>${time(job.createdAt)}</td>
      <td>${job.startedAt ? duration(job.startedAt, job.endedAt) : 'queued'}</td>
      <td class="now">${currentTask(job) || (err ? html`<span class="code">${err.code}</span> ${err.message}` : '')}</td>
    </tr>`;
}

function Filters({ filter, onChange }) {
  const set = (k) => (e) => onChange({ ...filter, [k]: e.currentTarget.value });
  return html`
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>State <select name="state" value=${filter.state} onChange=${set('state')}>
        <option value="">any</option>${JOB_STATES.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
      <label>Type <select name="type" value=${filter.type} onChange=${set('type')}>
        <option value="">any</option>${JOB_TYPES.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
      <label>Machine <input name="machineId" value=${filter.machineId} onChange=${set('machineId')} placeholder="machineId" /></label>
      <label>Process server <input name="processServerId" value=${filter.processServerId} onChange=${set('processServerId')} placeholder="cs" /></label>
    </form>`;
}

/**
 * Follows the global change stream: each changed job is read again (a burst coalesced into one read per
 * job and one of the counts per 200 ms) and put in, moved in or taken out of the page shown.
 */
function useLiveJobs(live, setPage, setStatus, refreshCounts) {
  useEffect(() => {
    refreshCounts();
    const flush = async () => {
      const ids = [...live.current.pending];
      live.current.pending.clear();
      live.current.timer = null;
      refreshCounts();
      const jobs = (await Promise.all(ids.map((id) => api('GET', `/api/v1/jobs/${id}`).catch(() => null)))).filter(Boolean);
      setPage((p) => {
        let list = [...p.jobs];
        for (const job of jobs) {
          const i = list.findIndex((j) => j.id === job.id);
          const ok = matches(job, live.current.filter);
          if (i >= 0) { if (ok) list[i] = job; else list.splice(i, 1); } else if (ok && live.current.first) list.push(job);
        }
        list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        if (list.length > PAGE) list = list.slice(0, PAGE);
        return { ...p, jobs: list };
      });
    };
    return follow('/api/v1/events', {
      onStatus: setStatus,
      onEvent: (ev) => {
        live.current.pending.add(ev.jobId);
        live.current.timer ??= setTimeout(flush, 200);
      },
    });
  }, []);
}

export function JobsView() {
  const [filter, setFilter] = useState({ state: '', type: '', machineId: '', processServerId: '' });
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState({ jobs: [], nextCursor: null });
  const [counts, setCounts] = useState({});
  const [status, setStatus] = useState('connecting');
  const [error, setError] = useState(null);
  const live = useRef({ filter, first: true, pending: new Set(), timer: null });
  live.current.filter = filter;
  live.current.first = cursors.length === 1;

  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    let gone = false;
    api('GET', query(filter, cursor)).then((p) => { if (!gone) { setPage(p); setError(null); } }, setError);
    return () => { gone = true; };
  }, [filter, cursor]);

  const refreshCounts = () => gauges().then((g) => setCounts(g.jobs), () => undefined);
  useLiveJobs(live, setPage, setStatus, refreshCounts);

  const change = (f) => { setFilter(f); setCursors([null]); };
  return html`
    <section class="jobs">
      <header class="view-head"><h1>Jobs</h1><span class=${`live ${status === 'live' ? 'on' : ''}`} data-live=${status}>${status === 'live' ? '● live' : status}</span></header>
      <ul class="counts">${JOB_STATES.map((s) => html`
        <li class=${`count s-${s}`} data-count=${s}><a href="#" onClick=${(e) => { e.preventDefault(); change({ ...filter, state: filter.state === s ? '' : s }); }}>
          <b>${counts[s] ?? 0}</b> ${s}</a></li>`)}</ul>
      <${Filters} filter=${filter} onChange=${change} />
      <${Problem} error=${error} />
      <table class="list">
        <thead><tr><th>State</th><th>Machine</th><th>Type</th><th>OS</th><th>Process server</th><th>Created</th><th>Duration</th><th>Now / error</th></tr></thead>
        <tbody>${page.jobs.map((j) => html`<${Row} key=${j.id} job=${j} />`)}</tbody>
      </table>
      ${page.jobs.length === 0 ? html`<p class="empty">No jobs${Object.values(filter).some(Boolean) ? ' match these filters' : ' yet'}.</p>` : null}
      <nav class="pager">
        <button disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
        <button disabled=${!page.nextCursor} onClick=${() => setCursors([...cursors, page.nextCursor])}>Older →</button>
      </nav>
    </section>`;
}
