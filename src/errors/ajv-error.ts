// A JSON Schema (ajv) error in the words the API and the CLI report it: the field it names and what is
// wrong with it. Used for request bodies (api/errors.ts) and inventory rows (cli/inventory.ts).

export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/machines/0/address` → `machines[0].address` */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

/** One ajv error as the field it names (`machines[0].port`, '' for the whole part) and what is wrong with it. */
export function describeAjvError(e: AjvError): { field: string; problem: string } {
  if (e.keyword === 'required') return { field: fieldPath(e.instancePath, String(e.params.missingProperty)), problem: 'is required' };
  if (e.keyword === 'additionalProperties') return { field: fieldPath(e.instancePath, String(e.params.additionalProperty)), problem: 'is not allowed (unknown property)' };
  const problem = e.keyword === 'enum' ? `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` : e.message ?? 'is invalid';
  return { field: fieldPath(e.instancePath), problem };
}
