/** JSON Schemas of the API (api.md), defined once: validation, serialization and OpenAPI. */
import { JOB_STATES, JOB_TYPES } from '../domain/job.ts';
import { HOST_KEY_POLICIES, OS_FAMILIES, WINDOWS_TRANSPORTS } from '../domain/os.ts';

const str = (maxLength = 256, extra: Record<string, unknown> = {}) => ({ type: 'string', minLength: 1, maxLength, ...extra });

export const errorSchema = {
  $id: 'ApiError',
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, details: {} },
};

export const jobErrorSchema = {
  type: 'object',
  properties: {
    code: { type: 'integer' }, message: { type: 'string' }, possibleCauses: { type: 'string' }, recommendedAction: { type: 'string' },
    retryable: { type: 'boolean' }, details: { type: 'object', additionalProperties: true },
  },
};

export const machineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['machineId', 'address', 'os', 'runAsAccountId'],
  properties: {
    machineId: str(256, { pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' }),
    displayName: str(256),
    address: str(253, { pattern: '^[A-Za-z0-9.:%-]+$' }),
    os: {
      type: 'object',
      additionalProperties: false,
      required: ['family'],
      properties: {
        family: { type: 'string', enum: OS_FAMILIES },
        name: str(256),
        tag: str(64, { pattern: '^[A-Za-z0-9.-]+$' }),
      },
    },
    runAsAccountId: str(64, { pattern: '^[A-Za-z0-9-]+$' }),
    processServerId: str(63, { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    smbPort: { type: 'integer', minimum: 1, maximum: 65535 },
    windowsTransport: { type: 'string', enum: WINDOWS_TRANSPORTS },
    installLocation: str(240),
    hostKeyPolicy: { type: 'string', enum: HOST_KEY_POLICIES },
  },
};

export const submitBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['machines'],
  properties: { machines: { type: 'array', minItems: 1, maxItems: 1000, items: machineSchema } },
};

export const submitResponseSchema = {
  type: 'object',
  properties: {
    jobs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, machineId: { type: 'string' }, state: { type: 'string' }, created: { type: 'boolean' }, statusCode: { type: 'integer' } },
      },
    },
  },
};

const taskSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' }, state: { type: 'string' }, startedAt: { type: 'string' }, endedAt: { type: 'string' },
    message: { type: 'string' }, errors: { type: 'array', items: jobErrorSchema },
  },
};

export const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: [...JOB_TYPES] },
    machine: {
      type: 'object',
      properties: {
        machineId: { type: 'string' }, displayName: { type: 'string' }, address: { type: 'string' },
        os: { type: 'object', properties: { family: { type: 'string' }, name: { type: 'string' }, tag: { type: 'string' } } },
      },
    },
    processServerId: { type: 'string' },
    runAsAccountId: { type: 'string' },
    state: { type: 'string', enum: [...JOB_STATES] },
    agentVersion: { type: 'string' },
    installer: { type: 'object', properties: { file: { type: 'string' }, sha256: { type: 'string' } } },
    tasks: { type: 'array', items: taskSchema },
    errors: { type: 'array', items: jobErrorSchema },
    attempts: { type: 'integer' },
    attemptLog: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' }, startedAt: { type: 'string' }, endedAt: { type: 'string' }, retryAt: { type: 'string' },
          processServerId: { type: 'string' }, worker: { type: 'string' }, error: jobErrorSchema, handedBack: { type: 'string' },
        },
      },
    },
    createdAt: { type: 'string' },
    startedAt: { type: 'string' },
    endedAt: { type: 'string' },
    restartOf: { type: 'string' },
    cancelRequested: { type: 'boolean' },
    allowedActions: { type: 'array', items: { type: 'string', enum: ['Cancel', 'Restart'] } },
  },
};

export const jobListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...JOB_STATES] },
    type: { type: 'string', enum: [...JOB_TYPES] },
    machineId: str(256),
    processServerId: str(63),
    since: { type: 'string', format: 'date-time' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$' },
  },
};

export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } },
};

export const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, osFamily: { type: 'string' }, username: { type: 'string' },
    domain: { type: ['string', 'null'] }, useSudo: { type: 'boolean' }, hasPassword: { type: 'boolean' }, hasPrivateKey: { type: 'boolean' },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' }, authFailures: { type: 'integer' }, suspended: { type: 'boolean' },
    suspendedAt: { type: ['string', 'null'] },
  },
};

const accountBodyProps = {
  name: str(128),
  osFamily: { type: 'string', enum: OS_FAMILIES },
  username: str(256),
  domain: { type: ['string', 'null'], maxLength: 255 },
  password: { type: 'string', minLength: 1, maxLength: 1024 },
  privateKey: { type: 'string', minLength: 1, maxLength: 16384 },
  passphrase: { type: 'string', minLength: 1, maxLength: 1024 },
  useSudo: { type: 'boolean' },
};

export const accountCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'osFamily', 'username'],
  properties: accountBodyProps,
};

export const accountUpdateSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: accountBodyProps,
};
