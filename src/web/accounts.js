// Accounts: the run-as accounts (never a secret: the API has none to give), suspended ones flagged.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { html, Problem, time } from './ui.js';

export function AccountsView() {
  const [accounts, setAccounts] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api('GET', '/api/v1/run-as-accounts').then((r) => setAccounts(r.accounts), setError); }, []);
  if (!accounts) return html`<section><header class="view-head"><h1>Run-as accounts</h1></header><${Problem} error=${error} /></section>`;
  return html`
    <section class="accounts">
      <header class="view-head"><h1>Run-as accounts</h1></header>
      ${accounts.length === 0 ? html`<p class="empty">No accounts yet (POST /api/v1/run-as-accounts).</p>` : null}
      <table class="list"><thead><tr><th>Name</th><th>OS</th><th>User</th><th>Secret stored</th><th>Failed logons</th><th>Status</th></tr></thead>
        <tbody>${accounts.map((a) => html`<tr data-account=${a.id} class=${a.suspended ? 'row-Failed' : ''}>
          <td><b>${a.name}</b><div class="sub"><code>${a.id}</code></div></td><td>${a.osFamily}</td>
          <td>${a.domain && a.domain !== '.' ? `${a.domain}\\` : ''}${a.username}${a.useSudo ? ' (sudo)' : ''}</td>
          <td>${[a.hasPassword && 'password', a.hasPrivateKey && 'private key'].filter(Boolean).join(', ') || 'none'}</td>
          <td>${a.authFailures ?? 0}</td>
          <td>${a.suspended ? html`<div class="suspended"><span class="badge s-Failed">Suspended</span> since ${time(a.suspendedAt)}
            <div>after ${a.authFailures} failed logons in a row: every job using it fails at once with 99006, so the directory never locks the account out.</div>
            <div><b>To unsuspend:</b> update its credentials (<code>PUT /api/v1/run-as-accounts/${a.id}</code> with the corrected password), then restart its failed jobs.</div></div>`
            : html`<span class="badge s-Succeeded">Active</span>`}</td>
        </tr>`)}</tbody></table>
    </section>`;
}
