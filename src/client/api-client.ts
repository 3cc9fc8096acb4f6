// The one typed client of pushinstalld's REST API (api.md), used by the CLI and the test lab. Its types
// are generated from the OpenAPI document (contract.ts), so our own tools are the first consumers of
// the contract portals get. Every HTTP detail (base URL, bearer token, JSON, status handling) sits in
// `send`/`exchange`.
import { SUBMIT_PATHS } from '../api/paths.ts';
import { isFinal, type JobState, type JobType } from '../domain/job.ts';
import { ApiError } from './api-error.ts';
import type {
  Account, AccountCreate, AccountUpdate, Health, HostKeyPinRequest, HostPin, InstallerListing, Job, JobEvent, JobFilter, JobPage, Machine,
  OsSupportEntry, Readiness, ResponseBody, SubmittedJob,
} from './contract.ts';
import { readSse } from './sse.ts';

export { ApiError };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A whole exchange: status, headers, the body as text and parsed (JSON, else the text). */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** Bearer token; null or absent: no Authorization header. */
  token?: string | null;
  fetch?: typeof fetch;
  /** Sees every complete exchange (not event streams), e.g. to record responses. */
  onResponse?: (method: HttpMethod, path: string, response: ApiResponse) => void;
}

export interface StreamOptions {
  /** Start after this event: a cursor (`id` of an event) or "0" for the beginning of the log. */
  after?: string;
  signal?: AbortSignal;
  /** Consecutive reconnections without a new event before giving up (default 10). */
  maxReconnects?: number;
  /** Called each time the stream is (re)connected, e.g. to read a snapshot that later events update. */
  onOpen?: () => void;
}

export type { AccountCreate } from './contract.ts';

const CURSOR = /^\d+-\d+$/;

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  /** The same client with another token (null: none). */
  withToken(token: string | null): ApiClient {
    return new ApiClient({ ...this.options, token });
  }

  // Service

  health(): Promise<Health> { return this.call('GET', '/healthz'); }

  /** Readiness, whether ready (200) or not (503). */
  async ready(): Promise<Readiness> {
    const res = await this.raw('GET', '/readyz');
    if (res.status !== 200 && res.status !== 503) throw new ApiError('GET', '/readyz', res.status, res.body as object | string);
    return res.body as Readiness;
  }

  async metrics(): Promise<string> { return (await this.exchange('GET', '/metrics')).text; }

  openApi(): Promise<{ openapi: string; paths: Record<string, unknown> }> { return this.call('GET', '/openapi.json'); }

  // Run-as accounts

  createAccount(input: AccountCreate): Promise<Account> { return this.call('POST', '/api/v1/run-as-accounts', input); }

  async listAccounts(): Promise<Account[]> { return (await this.call<ResponseBody<'listAccounts', 200>>('GET', '/api/v1/run-as-accounts')).accounts; }

  getAccount(id: string): Promise<Account> { return this.call('GET', `/api/v1/run-as-accounts/${seg(id)}`); }

  updateAccount(id: string, input: AccountUpdate): Promise<Account> { return this.call('PUT', `/api/v1/run-as-accounts/${seg(id)}`, input); }

  async deleteAccount(id: string): Promise<void> { await this.exchange('DELETE', `/api/v1/run-as-accounts/${seg(id)}`); }

  // Jobs

  /** Submits one job per machine; a machine with an active job of that type gets that job back (`created: false`). */
  async submit(type: JobType, machines: Machine[]): Promise<SubmittedJob[]> {
    return (await this.call<ResponseBody<'enableReplication', 202>>('POST', SUBMIT_PATHS[type], { machines })).jobs;
  }

  enableReplication(machines: Machine[]): Promise<SubmittedJob[]> { return this.submit('enable-replication', machines); }
  updateAgent(machines: Machine[]): Promise<SubmittedJob[]> { return this.submit('update-agent', machines); }
  uninstallAgent(machines: Machine[]): Promise<SubmittedJob[]> { return this.submit('uninstall-agent', machines); }
  installVssProvider(machines: Machine[]): Promise<SubmittedJob[]> { return this.submit('install-vss-provider', machines); }
  readinessCheck(machines: Machine[]): Promise<SubmittedJob[]> { return this.submit('readiness-check', machines); }

  getJob(id: string): Promise<Job> { return this.call('GET', `/api/v1/jobs/${seg(id)}`); }

  listJobs(filter: JobFilter = {}): Promise<JobPage> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, String(v));
    return this.call('GET', `/api/v1/jobs${query.size > 0 ? `?${query}` : ''}`);
  }

  /** The job's (redacted) log, as text. */
  async jobLog(id: string): Promise<string> { return (await this.exchange('GET', `/api/v1/jobs/${seg(id)}/log`)).text; }

  cancelJob(id: string): Promise<Job> { return this.call('POST', `/api/v1/jobs/${seg(id)}/cancel`); }

  /** A new job for the same machine and type (the old one must have ended). */
  async restartJob(id: string): Promise<SubmittedJob> {
    return (await this.call<{ jobs: [SubmittedJob] } & ResponseBody<'restartJob', 202>>('POST', `/api/v1/jobs/${seg(id)}/restart`)).jobs[0];
  }

  /** A job's changes as they happen (from its first event unless `after`), ending with its final state; reconnects where it stopped. */
  watchJob(id: string, options: StreamOptions = {}): AsyncGenerator<JobEvent> {
    return this.stream(`/api/v1/jobs/${seg(id)}/events`, { after: '0', ...options }, (ev) => ev.kind === 'job' && isFinal(ev.state as JobState));
  }

  /** Every job's changes from now (or after a cursor), until the caller stops; reconnects where it stopped. */
  events(options: StreamOptions = {}): AsyncGenerator<JobEvent> {
    return this.stream('/api/v1/events', options, () => false);
  }

  // Installer repository

  listInstallers(): Promise<InstallerListing> { return this.call('GET', '/api/v1/repository/installers'); }

  async osSupport(): Promise<OsSupportEntry[]> { return (await this.call<ResponseBody<'getOsSupport', 200>>('GET', '/api/v1/repository/os-support')).osSupport; }

  rescanRepository(): Promise<InstallerListing> { return this.call('POST', '/api/v1/repository/rescan'); }

  // Host keys (SSH host keys and WinRM certificate pins)

  async listHostKeys(): Promise<HostPin[]> { return (await this.call<ResponseBody<'listHostKeys', 200>>('GET', '/api/v1/host-keys')).hostKeys; }

  pinHostKey(pin: HostKeyPinRequest): Promise<HostPin> { return this.call('POST', '/api/v1/host-keys', pin); }

  /** Forgets every pin (SSH and TLS) of address:port. */
  async forgetHostKey(address: string, port: number): Promise<void> { await this.exchange('DELETE', `/api/v1/host-keys/${seg(`${address}:${port}`)}`); }

  // Transport

  /**
   * Any request, answered whatever its status (for contract tests and tools): a string body is sent as
   * is (with a JSON content type), anything else as JSON.
   */
  async raw<T = unknown>(method: HttpMethod, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await this.send(method, path, { body });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON: the text */ }
    const response: ApiResponse<T> = { status: res.status, headers: res.headers, text, body: parsed as T };
    this.options.onResponse?.(method, path, response);
    return response;
  }

  /** A request that must succeed: a 4xx/5xx becomes an ApiError. */
  private async exchange(method: HttpMethod, path: string, body?: unknown): Promise<ApiResponse> {
    const res = await this.raw(method, path, body);
    if (res.status >= 400) throw new ApiError(method, path, res.status, res.body as object | string);
    return res;
  }

  private async call<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    return (await this.exchange(method, path, body)).body as T;
  }

  /** The one place that speaks HTTP. */
  private send(method: HttpMethod, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let payload: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    }
    const doFetch = this.options.fetch ?? fetch;
    return doFetch(this.options.baseUrl.replace(/\/+$/, '') + path, { method, headers, body: payload, signal: init.signal });
  }

  /**
   * Server-Sent Events as an async iterator. When the connection drops (or the server reports its store
   * unreachable) it reconnects with Last-Event-ID, so no event is lost or repeated; a 4xx/5xx answer
   * throws. Breaking out of the loop closes the connection.
   */
  private async *stream(path: string, options: StreamOptions, last: (ev: JobEvent) => boolean): AsyncGenerator<JobEvent> {
    let cursor = options.after;
    let delayMs = 2000;
    let failures = 0;
    while (!options.signal?.aborted) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      options.signal?.addEventListener('abort', stop);
      try {
        const res = await this.openStream(path, cursor, controller.signal);
        options.onOpen?.();
        for await (const message of readSse(res.body as AsyncIterable<Uint8Array>)) {
          if (message.retry !== undefined) delayMs = message.retry;
          if (message.event === 'error') break;
          if (message.id === undefined) continue;
          failures = 0;
          cursor = message.id;
          const event = JSON.parse(message.data) as JobEvent;
          yield event;
          if (last(event)) return;
        }
      } catch (e) {
        if (options.signal?.aborted) return;
        if (e instanceof ApiError) throw e;
      } finally {
        options.signal?.removeEventListener('abort', stop);
        controller.abort();
      }
      if (++failures > (options.maxReconnects ?? 10)) throw new Error(`${path}: the event stream dropped ${failures} times in a row`);
      await sleep(delayMs, options.signal);
    }
  }

  private async openStream(path: string, cursor: string | undefined, signal: AbortSignal): Promise<Response> {
    // A cursor goes in Last-Event-ID (as a browser's EventSource sends it); "from the start" is ?after=0.
    const resume = cursor !== undefined && CURSOR.test(cursor);
    const url = cursor !== undefined && !resume ? `${path}?after=${encodeURIComponent(cursor)}` : path;
    const res = await this.send('GET', url, { headers: resume ? { 'last-event-id': cursor } : {}, signal });
    if (res.ok && res.body) return res;
    const text = await res.text();
    let body: object | string = text;
    try { body = JSON.parse(text) as object; } catch { /* text */ }
    throw new ApiError('GET', url, res.status, body);
  }
}

/** A path segment (ids, address:port). */
function seg(value: string): string {
  return encodeURIComponent(value);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
