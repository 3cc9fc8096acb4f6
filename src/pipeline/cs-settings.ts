import { readFile } from 'node:fs/promises';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { redactor } from '../logging/redactor.ts';
import type { PipelineDeps } from './deps.ts';

/** The configuration server endpoint and passphrase for registration; read per job so a rotated file applies at once. */
export async function readCsSettings(settings: PipelineDeps['settings']): Promise<{ endpoint: string; passphrase: string }> {
  if (!settings.csEndpoint) throw new PushError(Codes.CsSettingsMissing, { missing: 'CS_ENDPOINT' });
  if (!settings.csPassphraseFile) throw new PushError(Codes.CsSettingsMissing, { missing: 'CS_PASSPHRASE_FILE' });
  let passphrase: string;
  try {
    passphrase = (await readFile(settings.csPassphraseFile, 'utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    throw new PushError(Codes.CsSettingsMissing, { file: settings.csPassphraseFile, cause: (e as NodeJS.ErrnoException).code ?? 'unreadable' });
  }
  if (passphrase.trim() === '') throw new PushError(Codes.CsSettingsMissing, { file: settings.csPassphraseFile, cause: 'the passphrase file is empty' });
  redactor.add(passphrase);
  redactor.add(passphrase.trim());
  return { endpoint: settings.csEndpoint, passphrase };
}
