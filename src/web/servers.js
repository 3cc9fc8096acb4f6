// Process servers: heartbeat and queue depth. From GET /api/v1/process-servers when the API lists them,
// else from the Prometheus gauges every daemon already exposes.
import { useEffect, useState } from 'preact/hooks';
import { api, gauges } from './api.js';
import { ago, html, Problem } from './ui.js';

function fromGauges(g) {
  return Object.keys({ ...g.lastSeen, ...g.queue }).map((id) => ({ id, heartbeatAgeSeconds: g.lastSeen[id], queue: g.queue[id] ?? {} }));
}

export function ServersView() {
  const [servers, setServers] = useState(null);
  const [source, setSource] = useState('');
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const r = await api('GET', '/api/v1/process-servers');
      setServers(Array.isArray(r) ? r : r.processServers ?? []);
      setSource('GET /api/v1/process-servers');
    } catch (e) {
      if (e.status !== 404) { setError(e); return; }
      setServers(fromGauges(await gauges()));
      setSource('the /metrics gauges (this API does not list process servers yet)');
    }
  };
  useEffect(() => { void load(); const t = setInterval(load, 10_000); return () => clearInterval(t); }, []);
  if (!servers) return html`<section><${Problem} error=${error} /></section>`;
  return html`
    <section class="servers">
      <header class="view-head"><h1>Process servers</h1></header>
      <p class="sub">From ${source}; refreshed every 10 s.</p>
      <table class="list"><thead><tr><th>Id</th><th>Last heartbeat</th><th>Queue</th></tr></thead>
        <tbody>${servers.map((s) => html`<tr data-server=${s.id} class=${s.heartbeatAgeSeconds > 60 ? 'row-Warning' : ''}>
          <td><b>${s.id}</b></td><td>${ago(s.heartbeatAgeSeconds)}</td>
          <td>${Object.entries(s.queue ?? s.queueDepth ?? {}).map(([k, v]) => html`<span class="qd">${k} <b>${v}</b></span>`)}</td>
        </tr>`)}</tbody></table>
    </section>`;
}
