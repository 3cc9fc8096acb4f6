// Repository: installers per OS tag with versions, what is missing (and the file name to place), rejected files.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { html, Problem } from './ui.js';

function fileToPlace(entry, version) {
  const ext = entry.platform === 'windows' ? 'exe' : 'tar.gz';
  return `Microsoft-ASR_UA_${version}_${entry.tag}_GA_<ddMonyyyy>_release.${ext}`;
}

function highest(versions) {
  const parts = (v) => v.split('.').map(Number);
  return [...versions].sort((a, b) => {
    const x = parts(a); const y = parts(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  })[0];
}

export function RepositoryView() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const load = () => Promise.all([api('GET', '/api/v1/repository/installers'), api('GET', '/api/v1/repository/os-support')])
    .then(([inst, sup]) => { setData({ ...inst, osSupport: sup.osSupport }); setError(null); }, setError);
  useEffect(() => { void load(); }, []);
  const rescan = () => api('POST', '/api/v1/repository/rescan').then(load, setError);

  if (!data) return html`<section><${Problem} error=${error} /></section>`;
  const byTag = new Map();
  for (const i of data.installers) (byTag.get(i.osTag) ?? byTag.set(i.osTag, []).get(i.osTag)).push(i);
  const covered = data.osSupport.filter((e) => e.present);
  const missing = data.osSupport.filter((e) => !e.present);
  const example = highest(data.installers.map((i) => i.version)) ?? '<version>';
  return html`
    <section class="repository">
      <header class="view-head"><h1>Repository</h1><button data-action="rescan" onClick=${rescan}>Rescan</button></header>
      <${Problem} error=${error} />
      <h2>Covered (${covered.length})</h2>
      <table class="list"><thead><tr><th>OS tag</th><th>Operating systems</th><th>Versions</th><th>Pushed</th><th>Files</th></tr></thead>
        <tbody>${covered.map((e) => html`<tr data-tag=${e.tag}>
          <td><b>${e.tag}</b></td><td>${e.osNames.join(', ')}</td><td>${e.versions.join(', ')}</td>
          <td>${e.selectableVersion ?? html`<span class="warn">none (all newer than CS_VERSION)</span>`}</td>
          <td>${(byTag.get(e.tag) ?? []).map((i) => html`<div><code>${i.file}</code> <span class="sub">${(i.size / 1048576).toFixed(1)} MiB · ${i.sha256.slice(0, 12)}…</span></div>`)}</td>
        </tr>`)}</tbody></table>
      <h2>Missing (${missing.length})</h2>
      <p class="sub">Jobs for these operating systems fail with 99001. Place the installer in this process server's repository folder under the name shown; it is picked up within seconds, no restart.</p>
      <table class="list"><thead><tr><th>OS tag</th><th>Operating systems</th><th>File to place</th></tr></thead>
        <tbody>${missing.map((e) => html`<tr data-tag=${e.tag} class=${e.manualPlacement ? 'manual' : ''}>
          <td><b>${e.tag}</b>${e.manualPlacement ? html`<div class="tag">manual placement</div>` : null}</td><td>${e.osNames.join(', ')}</td>
          <td><code>${fileToPlace(e, example)}</code></td></tr>`)}</tbody></table>
      <h2>Rejected files (${data.rejected.length})</h2>
      ${data.rejected.length === 0 ? html`<p class="empty">None.</p>` : html`
        <table class="list"><thead><tr><th>File</th><th>Why it is not used</th></tr></thead>
          <tbody>${data.rejected.map((r) => html`<tr><td><code>${r.file}</code></td><td>${r.reason}</td></tr>`)}</tbody></table>`}
    </section>`;
}
