// The dashboard's only door to the daemon: the public REST API and its Server-Sent Events, with the
// token from sessionStorage (gone when the tab closes).
const KEY = 'pushinstalld.token';
const signOutListeners = new Set();

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); for (const fn of signOutListeners) fn(); },
  onSignOut(fn) { signOutListeners.add(fn); return () => signOutListeners.delete(fn); },
};

/** An API answer other than 2xx, with the text an operator should read. */
export class ApiError extends Error {
  constructor(status, body) {
    const message = body && typeof body === 'object' && body.message ? body.message : String(body || `HTTP ${status}`);
    const text = status === 401 ? `The token was refused (${message}). Sign in again.`
      : status === 403 ? `Your token's role may not do this: ${message}`
        : message;
    super(text);
    this.status = status;
    this.body = body;
  }
}

function headers(extra = {}, token = session.token) {
  return { authorization: `Bearer ${token}`, ...extra };
}

/** One API call; throws ApiError on a non-2xx answer (401 also signs out). */
export async function api(method, path, body, token) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }, token) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* text/plain answers (logs, metrics) */ }
  if (!res.ok) {
    if (res.status === 401 && token === undefined) session.clear();
    throw new ApiError(res.status, data);
  }
  return data;
}

/** Job counts by state, process server heartbeats and queue depths, from the Prometheus gauges. */
export async function gauges() {
  const text = await api('GET', '/metrics');
  const out = { jobs: {}, lastSeen: {}, queue: {} };
  for (const line of String(text).split('\n')) {
    let m = /^pushinstalld_jobs\{state="(\w+)"\} (\S+)$/.exec(line);
    if (m) { out.jobs[m[1]] = Number(m[2]); continue; }
    m = /^pushinstalld_process_server_last_seen_seconds\{process_server="([^"]+)"\} (\S+)$/.exec(line);
    if (m) { out.lastSeen[m[1]] = Number(m[2]); continue; }
    m = /^pushinstalld_queue_jobs\{process_server="([^"]+)",state="(\w+)"\} (\S+)$/.exec(line);
    if (m) (out.queue[m[1]] ??= {})[m[2]] = Number(m[3]);
  }
  return out;
}

function parseBlock(block) {
  const ev = { id: null, event: 'message', data: '', comment: null };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) ev.comment = line.slice(1).trim();
    else if (line.startsWith('id:')) ev.id = line.slice(3).trim();
    else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
    else if (line.startsWith('data:')) ev.data += line.slice(5).trim();
  }
  return ev;
}

/**
 * Follows an SSE stream (fetch, because EventSource cannot send the Authorization header). Reconnects
 * with `after=<last cursor>` so nothing is missed; `onEvent` returning 'stop' ends it (a job's final
 * state). Returns the function that stops it.
 */
export function follow(path, { onEvent, onStatus = () => undefined }) {
  let cursor = null;
  let stopped = false;
  let controller = null;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const url = cursor ? `${path}${path.includes('?') ? '&' : '?'}after=${encodeURIComponent(cursor)}` : path;
        const res = await fetch(url, { headers: headers({ accept: 'text/event-stream' }), signal: controller.signal });
        if (res.status === 401) { session.clear(); return; }
        if (!res.ok) throw new ApiError(res.status, await res.text());
        onStatus('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const ev = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            // The stream's first comment names where it starts: resume from there even before any event.
            const start = ev.comment && /from (\d+-\d+)$/.exec(ev.comment);
            if (start && !cursor) cursor = start[1];
            if (!ev.data) continue;
            if (ev.id) cursor = ev.id;
            if (ev.event === 'error') throw new Error(JSON.parse(ev.data).message);
            if (onEvent({ ...JSON.parse(ev.data), kind: ev.event }) === 'stop') { stopped = true; controller.abort(); return; }
          }
        }
      } catch (e) {
        if (stopped) return;
        onStatus(`reconnecting (${e.message})`);
      }
      if (!stopped) { onStatus('reconnecting'); await new Promise((r) => setTimeout(r, 2000)); }
    }
  };
  void run();
  return () => { stopped = true; controller?.abort(); };
}
