// Shared pieces of the dashboard: the html tag, formatting, state badges and the error card.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

export const JOB_STATES = ['NotStarted', 'InProgress', 'Succeeded', 'Warning', 'Failed', 'Cancelled'];
export const JOB_TYPES = ['enable-replication', 'update-agent', 'uninstall-agent', 'install-vss-provider', 'readiness-check'];
export const FINAL = new Set(['Succeeded', 'Warning', 'Failed', 'Cancelled']);

export function Badge({ state }) {
  return html`<span class=${`badge s-${state}`} data-state=${state}>${state}</span>`;
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
}

/** "1 m 05 s" from two ISO times (the second defaults to now, for what is still running). */
export function duration(from, to) {
  if (!from) return '';
  const ms = Math.max(0, (to ? Date.parse(to) : Date.now()) - Date.parse(from));
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} m ${String(s % 60).padStart(2, '0')} s` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

export function ago(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return 'never';
  return seconds < 1 ? 'just now' : `${duration(new Date(Date.now() - seconds * 1000).toISOString())} ago`;
}

function Detail({ name, value }) {
  // Text reads as text; structured details (objects, multi-line output) keep their layout.
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  const block = typeof value === 'object' || text.includes('\n');
  return html`<div class="detail"><span class="k">${name}</span>${block ? html`<pre>${text}</pre>` : html`<span class="v">${text}</span>`}</div>`;
}

/** An error as the operator needs it: code, message, possible causes, recommended action, details. */
export function ErrorCard({ error }) {
  const { installerLogTail, ...rest } = error.details ?? {};
  return html`
    <div class="error-card" data-code=${error.code}>
      <div class="error-head"><span class="code">${error.code}</span> <span class="msg">${error.message}</span>
        ${error.retryable ? html`<span class="tag">transient</span>` : null}</div>
      <dl>
        <dt>Possible causes</dt><dd class="causes">${error.possibleCauses}</dd>
        <dt>Recommended action</dt><dd class="action">${error.recommendedAction}</dd>
      </dl>
      ${Object.entries(rest).filter(([, v]) => v !== '' && v !== null && v !== undefined).map(([k, v]) => html`<${Detail} name=${k} value=${v} />`)}
      ${installerLogTail ? html`<div class="detail"><span class="k">installer log tail</span><pre class="logtail">${installerLogTail}</pre></div>` : null}
    </div>`;
}

export function Problem({ error }) {
  return error ? html`<div class="problem" role="alert" data-status=${error.status ?? ''}>${error.message}</div>` : null;
}
