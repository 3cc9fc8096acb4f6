// The named schemas of the API's responses (OpenAPI `components.schemas`), each registered once with
// `app.addSchema` and referenced as `{ $ref: '<Name>#' }`. Enums come from src/domain; `required` lists
// every field the TS type declares without `?` (a type-level test checks the generated types agree).
import { JOB_STATES, JOB_TYPES, TASK_NAMES, TASK_STATES } from '../domain/job.ts';
import { OS_FAMILIES } from '../domain/os.ts';
import { PIN_KINDS } from '../accounts/host-keys.ts';
import { machineSchema } from './schemas.ts';

const string = { type: 'string' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });

/** A `$ref` to a named component (a dangling one fails the OpenAPI validation test). */
export const ref = (name: string): { $ref: string } => ({ $ref: `${name}#` });

const ApiErrorBody = {
  description: 'Every error response (4xx, 5xx). `field` names the offending input of a 400; `details` explains some 409s.',
  type: 'object', required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599 },
    error: { type: 'string', description: 'the HTTP reason phrase, e.g. Bad Request, Payload Too Large' },
    message: string, field: string, details: { type: 'object', additionalProperties: true },
  },
};

const JobError = {
  description: 'An error of a job, a task or an attempt (catalogue code with its causes and the action to take).',
  type: 'object', required: ['code', 'message', 'possibleCauses', 'recommendedAction', 'retryable'],
  properties: {
    code: { type: 'integer' }, message: string, possibleCauses: string, recommendedAction: string,
    retryable: { type: 'boolean' }, details: { type: 'object', additionalProperties: true },
  },
};

const Task = {
  type: 'object', required: ['name', 'state', 'errors'],
  properties: {
    name: { type: 'string', enum: [...TASK_NAMES] }, state: { type: 'string', enum: [...TASK_STATES] }, startedAt: time, endedAt: time,
    message: { type: 'string', description: 'why a task was skipped or what it found' },
    errors: { type: 'array', items: ref('JobError') },
  },
};

const MachineOs = {
  type: 'object', required: ['family'],
  properties: { family: { type: 'string', enum: [...OS_FAMILIES] }, name: string, tag: string },
};

const AttemptLogEntry = {
  type: 'object', required: ['attempt', 'startedAt', 'processServerId', 'worker'],
  properties: {
    attempt: { type: 'integer' }, startedAt: time, endedAt: time, retryAt: time, processServerId: string, worker: string, handedBack: { type: 'string', description: 'why the attempt was handed back (worker shutdown, vault key): it used no attempt' },
    error: ref('JobError'),
  },
};

const Job = {
  type: 'object',
  required: ['id', 'type', 'machine', 'processServerId', 'runAsAccountId', 'state', 'tasks', 'errors', 'attempts', 'createdAt', 'allowedActions'],
  properties: {
    id: string,
    type: { type: 'string', enum: [...JOB_TYPES] },
    machine: {
      type: 'object', required: ['machineId', 'displayName', 'address', 'os'],
      properties: { machineId: string, displayName: string, address: string, os: ref('MachineOs') },
    },
    processServerId: string, runAsAccountId: string,
    state: { type: 'string', enum: [...JOB_STATES] },
    agentVersion: string,
    installedBuild: { type: 'string', description: 'the version the installed agent reports (release plus build, e.g. 9.30.5407.1); the release part matches the installer' },
    installer: { type: 'object', required: ['file', 'sha256'], properties: { file: string, sha256: string } },
    tasks: { type: 'array', items: ref('Task') },
    errors: { type: 'array', items: ref('JobError') },
    attempts: { type: 'integer' },
    attemptLog: { type: 'array', items: ref('AttemptLogEntry') },
    createdAt: time, startedAt: time, endedAt: time,
    restartOf: { type: 'string', description: 'the job this one restarts' },
    cancelRequested: { type: 'boolean', description: 'cancel was requested and the job has not ended yet' },
    allowedActions: { type: 'array', items: { type: 'string', enum: ['Cancel', 'Restart'] } },
  },
};

const JobPage = {
  type: 'object', required: ['jobs', 'nextCursor'],
  properties: { jobs: { type: 'array', items: ref('Job') }, nextCursor: { ...nullable(string), description: 'pass as `cursor` for the next page; null: last page' } },
};

const SubmittedJob = {
  description: 'One entry of a submit or restart response: a new job (statusCode 202), or the active job of that machine and type (200).',
  type: 'object', required: ['id', 'machineId', 'state', 'created', 'statusCode'],
  properties: {
    id: string, machineId: string, state: { type: 'string', enum: [...JOB_STATES] }, created: { type: 'boolean' },
    statusCode: { type: 'integer', enum: [200, 202] },
  },
};

const SubmitResponse = { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: ref('SubmittedJob') } } };

const JobEvent = {
  description: 'The data of one Server-Sent Event (`event:` job or task, `id:` the cursor); the final event of a job stream carries the job.',
  type: 'object', required: ['cursor', 'jobId', 'kind', 'state', 'at'],
  properties: {
    cursor: string, jobId: string, kind: { type: 'string', enum: ['job', 'task'] }, state: string,
    task: string, at: time, job: ref('Job'),
  },
};

const Account = {
  description: 'A run-as account as anyone may see it: never a secret.',
  type: 'object',
  required: ['id', 'name', 'osFamily', 'username', 'domain', 'useSudo', 'hasPassword', 'hasPrivateKey', 'createdAt', 'updatedAt', 'authFailures', 'suspended', 'suspendedAt'],
  properties: {
    id: string, name: string, osFamily: { type: 'string', enum: [...OS_FAMILIES] }, username: string, domain: nullable(string),
    useSudo: { type: 'boolean' }, hasPassword: { type: 'boolean' }, hasPrivateKey: { type: 'boolean' }, createdAt: time, updatedAt: time,
    authFailures: { type: 'integer', minimum: 0 }, suspended: { type: 'boolean' }, suspendedAt: nullable(time),
  },
};

const AccountList = { type: 'object', required: ['accounts'], properties: { accounts: { type: 'array', items: ref('Account') } } };

const Installer = {
  type: 'object', required: ['file', 'osTag', 'platform', 'version', 'releaseDate', 'size', 'sha256', 'eligible'],
  properties: {
    file: string, osTag: string, platform: { type: 'string', enum: [...OS_FAMILIES] }, version: string,
    releaseDate: { type: 'string', format: 'date' }, size: { type: 'integer', minimum: 0 }, sha256: string,
    eligible: { type: 'boolean', description: 'may be pushed from this process server: not newer than CS_VERSION (nor PROCESS_SERVER_VERSION)' },
  },
};

const RejectedFile = { type: 'object', required: ['file', 'reason'], properties: { file: string, reason: string } };

const InstallerListing = {
  type: 'object', required: ['installers', 'rejected'],
  properties: { installers: { type: 'array', items: ref('Installer') }, rejected: { type: 'array', items: ref('RejectedFile') } },
};

const OsSupportEntry = {
  type: 'object', required: ['tag', 'platform', 'osNames', 'manualPlacement', 'present', 'versions'],
  properties: {
    tag: string, platform: { type: 'string', enum: [...OS_FAMILIES] }, osNames: { type: 'array', items: string },
    manualPlacement: { type: 'boolean' }, present: { type: 'boolean' },
    extensions: {
      type: 'array', description: 'operating systems kept beyond the documentation, with the agent version each needs',
      items: { type: 'object', required: ['os', 'windowsVersion', 'minAgentVersion'], properties: { os: string, windowsVersion: string, minAgentVersion: string } },
    },
    latestVersion: { type: 'string', description: 'highest version present for the tag' },
    selectableVersion: { type: 'string', description: 'the version a push would use: the highest not newer than CS_VERSION' },
    versions: { type: 'array', items: string, description: 'every version present, highest first' },
  },
};

const OsSupport = { type: 'object', required: ['osSupport'], properties: { osSupport: { type: 'array', items: ref('OsSupportEntry') } } };

const HostPin = {
  description: 'A pinned SSH host key (`ssh`) or WinRM HTTPS certificate (`tls`).',
  type: 'object', required: ['kind', 'address', 'port', 'fingerprint', 'keyType', 'source', 'firstSeen', 'lastSeen'],
  properties: {
    kind: { type: 'string', enum: [...PIN_KINDS] }, address: string, port: { type: 'integer' },
    fingerprint: { type: 'string', description: 'ssh: SHA256:<43 base64>; tls: SHA-256 of the certificate, 32 hex pairs joined by colons' },
    keyType: { ...nullable(string), description: 'ssh only, e.g. ssh-ed25519 (null until first seen); always null for tls' },
    source: { type: 'string', enum: ['first-use', 'pre-seeded'] },
    firstSeen: { ...time, description: 'when the pin was made (on first use, or pre-seeded)' },
    lastSeen: nullable(time),
  },
};

const HostPinList = { type: 'object', required: ['hostKeys'], properties: { hostKeys: { type: 'array', items: ref('HostPin') } } };

const Health = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } };

const Readiness = {
  type: 'object', required: ['status', 'checks', 'settings'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: { type: 'object', additionalProperties: string, description: 'per dependency (redis, repository): ok, or what is wrong' },
    settings: {
      type: 'object', required: ['missing', 'detail'], description: 'settings a push needs that are unset (CS_VERSION, CS_ENDPOINT, ...): the API runs without them',
      properties: { missing: { type: 'array', items: string }, detail: string },
    },
  },
};

export const COMPONENTS = {
  Machine: { description: 'One machine of a submit request.', ...machineSchema }, Error: ApiErrorBody, JobError, Task, MachineOs, AttemptLogEntry, Job, JobPage, SubmittedJob, SubmitResponse, JobEvent,
  Account, AccountList, Installer, RejectedFile, InstallerListing, OsSupportEntry, OsSupport, HostPin, HostPinList, Health, Readiness,
};

/** The components as `app.addSchema` takes them (`$id` = the component's name). */
export function componentSchemas(): Array<{ $id: string } & object> {
  return Object.entries(COMPONENTS).map(([name, schema]) => ({ $id: name, ...schema }));
}
