// The two kinds of guest identity pinned per address and port: SSH host keys and WinRM HTTPS
// certificates. What differs between them is data (where they are stored, the fingerprint format, the
// words and error codes an operator sees); PinStore holds the one trust logic for both.
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { ValidationError } from '../errors/validation-error.ts';
import type { HostKeyPolicy } from '../domain/os.ts';

export const PIN_KINDS = ['ssh', 'tls'] as const;
export type PinKind = (typeof PIN_KINDS)[number];

/** A pin as stored in Redis (one hash per kind, field `address:port`); TLS records written before keyType existed lack it. */
export interface StoredPin {
  /** `address:port` */
  host: string;
  fingerprint: string;
  keyType?: string | null;
  source: 'first-use' | 'pre-seeded';
  pinnedAt: string;
  lastSeenAt: string | null;
}

/** One presentation of a key or certificate by a guest, as a verifier sees it. */
export interface Presented {
  /** `address:port` */
  host: string;
  address: string;
  port: number;
  fingerprint: string;
  keyType: string | null;
  policy: HostKeyPolicy;
}

export interface PinKindSpec {
  kind: PinKind;
  redisKey: string;
  /** The port a pin is for when none is given (SSH, WinRM over HTTPS). */
  defaultPort: number;
  /** Whether the second argument of a verifier call is the key type (TLS verifiers get the PEM there). */
  hasKeyType: boolean;
  /** The form pins are stored and compared in. */
  normalise(fingerprint: string): string;
  /** Throws a ValidationError naming `fingerprint` for a (normalised) fingerprint this kind never presents. */
  validate(fingerprint: string): void;
  offWarning(p: Presented): string;
  pinnedOnFirstUse(p: Presented): string;
  matched?(p: Presented, pinned: StoredPin): string;
  notPreSeeded(p: Presented): PushError;
  changed(p: Presented, pinned: StoredPin): PushError;
}

export function hostId(address: string, port: number): string {
  return `${address.toLowerCase()}:${port}`;
}

const forgetCommand = (p: Presented) => `DELETE /api/v1/host-keys/${encodeURIComponent(p.host)}`;

const SSH_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const sshAccept = (p: Presented) => `npm run cli -- host-keys pin ${p.address} ${p.fingerprint} --port ${p.port}`;

export const SSH_PINS: PinKindSpec = {
  kind: 'ssh',
  redisKey: 'pi:host-keys',
  defaultPort: 22,
  hasKeyType: true,
  normalise: (fingerprint) => fingerprint.trim(),
  validate(fingerprint) {
    if (!SSH_FINGERPRINT.test(fingerprint)) throw new ValidationError('fingerprint', 'must be an OpenSSH SHA256 fingerprint: SHA256: followed by 43 base64 characters');
  },
  offWarning: (p) => `WARNING: host key checking is off for ${p.host}; accepted ${p.keyType} key ${p.fingerprint} without verification`,
  pinnedOnFirstUse: (p) => `pinned ${p.keyType} host key ${p.fingerprint} for ${p.host} (trust on first use)`,
  matched: (p, pinned) => `host key of ${p.host} matches the pinned ${pinned.keyType ?? p.keyType} key ${p.fingerprint}`,
  notPreSeeded: (p) => new PushError(Codes.HostKeyMismatch, {
    host: p.host, presented: p.fingerprint, keyType: p.keyType, policy: p.policy, pinned: null, howToAccept: sshAccept(p),
  }, {
    message: `Host key of ${p.host} is not pre-seeded and the host key policy is strict (the machine presented ${p.keyType} ${p.fingerprint}). `
      + `If that is the machine's key, pre-seed it: ${sshAccept(p)}`,
  }),
  changed: (p, pinned) => new PushError(Codes.HostKeyMismatch, {
    host: p.host, pinned: pinned.fingerprint, presented: p.fingerprint, keyType: p.keyType, pinnedAt: pinned.pinnedAt, source: pinned.source, policy: p.policy,
    howToAccept: `${sshAccept(p)}   (or forget the pin: ${forgetCommand(p)})`,
  }, {
    message: `Host key of ${p.host} changed: pinned ${pinned.fingerprint}, presented ${p.fingerprint}. `
      + `If the new key is right (verify it out of band), accept it: ${sshAccept(p)}`,
  }),
};

const TLS_FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/** `ab:cd…`, `ABCD…` and `SHA256:ab…` all become `AB:CD:…` (Node's fingerprint256), so a pin compares whatever form it came in. */
export function normaliseFingerprint(fingerprint: string): string {
  const hex = fingerprint.trim().replace(/^sha-?256:/i, '').replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  if (hex.length !== 64) return fingerprint.trim();
  return hex.match(/../g)?.join(':') ?? hex;
}

export const TLS_PINS: PinKindSpec = {
  kind: 'tls',
  redisKey: 'pi:tls-pins',
  defaultPort: 5986,
  hasKeyType: false,
  normalise: normaliseFingerprint,
  validate(fingerprint) {
    if (!TLS_FINGERPRINT.test(fingerprint)) throw new ValidationError('fingerprint', 'must be the SHA-256 fingerprint of the certificate: 32 hex pairs separated by colons (as openssl x509 -fingerprint -sha256 prints it)');
  },
  offWarning: (p) => `WARNING: certificate checking is off for ${p.host}; accepted WinRM certificate ${p.fingerprint} without verification`,
  pinnedOnFirstUse: (p) => `pinned WinRM certificate ${p.fingerprint} for ${p.host} (trust on first use)`,
  notPreSeeded: (p) => new PushError(Codes.CertificateMismatch, { host: p.host, presented: p.fingerprint, pinned: null, policy: p.policy },
    { message: `The WinRM certificate of ${p.host} is not pre-seeded and the policy is strict (it presented ${p.fingerprint}).` }),
  changed: (p, pinned) => new PushError(Codes.CertificateMismatch, {
    host: p.host, pinned: pinned.fingerprint, presented: p.fingerprint, pinnedAt: pinned.pinnedAt, source: pinned.source,
    howToForget: `${forgetCommand(p)} (npm run cli -- host-keys forget ${p.address} --port ${p.port})`,
  }, { message: `The WinRM certificate of ${p.host} changed: pinned ${pinned.fingerprint}, presented ${p.fingerprint}.` }),
};

export const PIN_SPECS: Readonly<Record<PinKind, PinKindSpec>> = { ssh: SSH_PINS, tls: TLS_PINS };
