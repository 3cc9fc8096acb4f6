// The operator dashboard: sign-in with an API token, then Jobs, Job detail, Repository, Accounts and
// Process servers, routed by the URL hash (so any view can be bookmarked or reloaded).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccountsView } from './accounts.js';
import { api, ApiError, session } from './api.js';
import { JobView } from './job.js';
import { JobsView } from './jobs.js';
import { RepositoryView } from './repository.js';
import { ServersView } from './servers.js';
import { html, Problem } from './ui.js';

function SignIn({ onSignedIn, reason }) {
  const [error, setError] = useState(reason);
  const submit = async (e) => {
    e.preventDefault();
    const token = new FormData(e.currentTarget).get('token').trim();
    try {
      await api('GET', '/api/v1/jobs?limit=1', undefined, token);
      session.set(token);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new Error('That token is not valid: the daemon does not know it.') : err);
    }
  };
  return html`
    <main class="signin">
      <h1>pushinstalld</h1>
      <form onSubmit=${submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" placeholder="pit_…" required />
        <button type="submit">Sign in</button>
        <p class="sub">The token is kept in this tab only (sessionStorage). A new daemon prints its admin token once at first start; add others with <code>npm run cli -- tokens add</code>.</p>
        <${Problem} error=${error} />
      </form>
    </main>`;
}

const VIEWS = [['jobs', 'Jobs'], ['repository', 'Repository'], ['accounts', 'Accounts'], ['process-servers', 'Process servers']];

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  return { view: parts[0] || 'jobs', id: parts[1] };
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(session.token));
  const [where, setWhere] = useState(route());
  useEffect(() => {
    const onHash = () => setWhere(route());
    addEventListener('hashchange', onHash);
    const off = session.onSignOut(() => setSignedIn(false));
    return () => { removeEventListener('hashchange', onHash); off(); };
  }, []);
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  const view = where.view === 'jobs' && where.id ? html`<${JobView} key=${where.id} id=${where.id} />`
    : where.view === 'repository' ? html`<${RepositoryView} />`
      : where.view === 'accounts' ? html`<${AccountsView} />`
        : where.view === 'process-servers' ? html`<${ServersView} />`
          : html`<${JobsView} />`;
  return html`
    <header class="top">
      <b class="brand">pushinstalld</b>
      <nav>${VIEWS.map(([v, label]) => html`<a href=${`#/${v}`} class=${where.view === v ? 'active' : ''} data-nav=${v}>${label}</a>`)}</nav>
      <a href="/docs" class="sub">API</a>
      <button class="link" onClick=${() => session.clear()}>Sign out</button>
    </header>
    <main>${view}</main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading" placeholder: Preact 11 renders next to existing children
render(html`<${App} />`, root);
