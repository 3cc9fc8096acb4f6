// The API's types as a client sees them: generated from the OpenAPI document (src/client/openapi.ts,
// `npm run openapi`), so the client, the CLI and the test lab consume the contract a portal gets.
import type { components, operations } from './openapi.ts';

type Schemas = components['schemas'];

/** The JSON body an operation answers with that status. */
export type ResponseBody<Op extends keyof operations, Status extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][Status] extends { content: { 'application/json': infer T } } ? T : never;

/** The JSON body an operation takes. */
export type RequestBody<Op extends keyof operations> =
  NonNullable<operations[Op]['requestBody']> extends { content: { 'application/json': infer T } } ? T : never;

/** The query parameters of an operation. */
export type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export type Job = Schemas['Job'];
export type Task = Schemas['Task'];
export type JobError = Schemas['JobError'];
export type JobPage = Schemas['JobPage'];
export type JobEvent = Schemas['JobEvent'];
export type SubmittedJob = Schemas['SubmittedJob'];
export type Account = Schemas['Account'];
export type Installer = Schemas['Installer'];
export type InstallerListing = Schemas['InstallerListing'];
export type OsSupportEntry = Schemas['OsSupportEntry'];
export type HostPin = Schemas['HostPin'];
export type Readiness = Schemas['Readiness'];
export type Health = Schemas['Health'];
export type ErrorBody = Schemas['Error'];

/** One machine of a submit request. */
export type Machine = RequestBody<'enableReplication'>['machines'][number];
/** A new run-as account (name, osFamily and username required). */
export type AccountCreate = RequestBody<'createAccount'>;
/** The fields of an account to change. */
export type AccountUpdate = RequestBody<'updateAccount'>;
export type HostKeyPinRequest = RequestBody<'pinHostKey'>;
/** GET /api/v1/jobs: filters and paging. */
export type JobFilter = Query<'listJobs'>;
