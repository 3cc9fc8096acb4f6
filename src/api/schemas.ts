/** JSON Schemas of the API's requests (api.md), defined once: validation and OpenAPI (responses: components.ts). */
import { JOB_STATES, JOB_TYPES } from '../domain/job.ts';
import { HOST_KEY_POLICIES, OS_FAMILIES, WINDOWS_TRANSPORTS, WINRM_TLS } from '../domain/os.ts';

const str = (maxLength = 256, extra: Record<string, unknown> = {}) => ({ type: 'string', minLength: 1, maxLength, ...extra });

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
    winrmTls: { type: 'string', enum: WINRM_TLS },
    installLocation: str(240),
    hostKeyPolicy: { type: 'string', enum: HOST_KEY_POLICIES },
  },
};

export const submitBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['machines'],
  properties: { machines: { type: 'array', minItems: 1, maxItems: 1000, items: { $ref: 'Machine#' } } },
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
    limit: { type: 'integer', minimum: 0, maximum: 9999, description: 'page size, 1 to 1000 (default 100)' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'the `nextCursor` of the previous page' },
  },
};

export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } },
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
