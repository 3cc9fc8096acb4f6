// The daemon's own types (src/domain, api/views.ts) and the types generated from the OpenAPI document
// (src/client/openapi.ts) describe the same wire shapes: each pair must be assignable both ways, so a
// field made optional, renamed, or an enum value added on one side only fails `tsc` (and so npm test).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AccountCreate, AccountUpdate, Account, HostPin, Installer, Job, JobError, JobEvent, JobFilter, Machine, OsSupportEntry, Readiness, SubmittedJob, Task } from '../../src/client/contract.ts';
import type { AccountInput } from '../../src/accounts/accounts.ts';
import type { JobError as DomainJobError, MachineRequest, Task as DomainTask } from '../../src/domain/job.ts';
import type * as Views from '../../src/api/views.ts';

/** True only when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(_: T) => _;

agree<Same<Job, Views.JobView>>(true);
agree<Same<Task, DomainTask>>(true);
agree<Same<JobError, DomainJobError>>(true);
agree<Same<SubmittedJob, Views.SubmittedJob>>(true);
agree<Same<Account, Views.RunAsAccount>>(true);
agree<Same<Installer, Views.InstallerView>>(true);
agree<Same<OsSupportEntry, Views.OsSupportEntry>>(true);
agree<Same<HostPin, Views.HostKeyView>>(true);
agree<Same<Readiness, Views.Readiness>>(true);
agree<Same<JobEvent, Views.JobStreamEvent>>(true);
agree<Same<Machine, MachineRequest>>(true);
agree<Same<AccountUpdate, AccountInput>>(true);
agree<Same<AccountCreate, AccountInput & Required<Pick<AccountInput, 'name' | 'osFamily' | 'username'>>>>(true);
agree<Same<JobFilter, Views.JobFilter>>(true);

it('the generated types and the daemon\'s types agree (checked by tsc; see the assertions above)', () => {
  assert.ok(true);
});
