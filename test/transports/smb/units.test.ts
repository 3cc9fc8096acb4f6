// Unit tests of the SMB building blocks that need no server: CMAC (RFC 4493 vectors), signing,
// SMB3 encryption, SPNEGO/DER, paths, and the NTSTATUS -> ASR code mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AesCmac, Signer, SigningAlgorithm, kdf } from '../../../src/transports/smb/signing.ts';
import { Cipher, Encryptor, EncryptionError } from '../../../src/transports/smb/encryption.ts';
import {
  NTLMSSP_OID, NegState, decodeNegTokenInit, decodeNegTokenResp, encodeNegTokenInit, encodeNegTokenResp, mechTypeList,
} from '../../../src/transports/smb/spnego.ts';
import { decodeOid, encodeOid, readTlv, tlv } from '../../../src/transports/smb/der.ts';
import { SmbError, asrCodeForStatus, fromSocketError } from '../../../src/transports/smb/errors.ts';
import { NtStatus, ntStatusName } from '../../../src/transports/smb/ntstatus.ts';
import { smbPath } from '../../../src/transports/smb/client.ts';
import { Command, writeRequestHeader } from '../../../src/transports/smb/packets.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('AES-128-CMAC matches RFC 4493 section 4', () => {
  const cmac = new AesCmac(hex('2b7e151628aed2a6abf7158809cf4f3c'));
  const m = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710');
  assert.equal(cmac.mac(m.subarray(0, 0)).toString('hex'), 'bb1d6929e95937287fa37d129b756746');
  assert.equal(cmac.mac(m.subarray(0, 16)).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
  assert.equal(cmac.mac(m.subarray(0, 40)).toString('hex'), 'dfa66747de9ae63030ca32611497c827');
  assert.equal(cmac.mac(m).toString('hex'), '51f0bebf7e3b9d92fc49741779363cfe');
});

function message(size: number): Buffer {
  const msg = Buffer.alloc(64 + size, 0xab);
  writeRequestHeader(msg, 0, { command: Command.WRITE, creditCharge: 1, creditRequest: 1, flags: 0, messageId: 7n, treeId: 1, sessionId: 5n });
  return msg;
}

test('every signing algorithm signs in place and detects tampering', () => {
  const key = kdf(Buffer.alloc(16, 1), 'SMBSigningKey\0', Buffer.alloc(64));
  assert.equal(key.length, 16);
  for (const alg of [SigningAlgorithm.HMAC_SHA256, SigningAlgorithm.AES_CMAC, SigningAlgorithm.AES_GMAC]) {
    const signer = new Signer(alg, key);
    const msg = message(100_000);
    signer.sign(msg);
    assert.ok(msg.readUInt32LE(16) & 0x8, 'SIGNED flag set');
    assert.ok(!msg.subarray(48, 64).equals(Buffer.alloc(16)));
    assert.ok(signer.verify(msg), `alg ${alg} verifies its own signature`);
    msg[70]! ^= 1;
    assert.equal(signer.verify(msg), false, `alg ${alg} detects a flipped bit`);
    msg[70]! ^= 1;
    assert.equal(new Signer(alg, Buffer.alloc(16, 9)).verify(msg), false, `alg ${alg} rejects the wrong key`);
  }
});

test('SMB3 encryption round-trips with GCM and CCM and refuses tampering', () => {
  for (const cipher of [Cipher.AES_128_GCM, Cipher.AES_128_CCM]) {
    const c2s = Buffer.alloc(16, 1);
    const s2c = Buffer.alloc(16, 2);
    const client = new Encryptor(cipher, c2s, s2c);
    const server = new Encryptor(cipher, s2c, c2s);
    const msg = message(5000);
    const wire = client.encrypt(msg, 0x1122n, 4);
    const frame = wire.subarray(4);
    assert.equal(frame.readUInt32LE(0), 0x424d53fd);
    assert.equal(frame.readBigUInt64LE(44), 0x1122n);
    assert.ok(!frame.subarray(52).equals(msg), 'ciphertext differs from plaintext');
    assert.ok(server.decrypt(Buffer.from(frame)).equals(msg));
    const again = client.encrypt(msg, 0x1122n);
    assert.ok(!again.subarray(20, 36).equals(frame.subarray(20, 36)), 'nonces are not reused');
    frame[60]! ^= 1;
    assert.throws(() => server.decrypt(frame), EncryptionError);
  }
});

test('DER and SPNEGO tokens round-trip', () => {
  assert.equal(encodeOid(NTLMSSP_OID).toString('hex'), '060a2b0601040182370202' + '0a');
  assert.equal(decodeOid(readTlv(encodeOid('1.2.840.113554.1.2.2')).content), '1.2.840.113554.1.2.2');
  const long = Buffer.alloc(70000, 3);
  assert.ok(readTlv(tlv(0x04, long)).content.equals(long));

  const ntlm = Buffer.from('NTLMSSP\0\x01\0\0\0', 'latin1');
  const init = decodeNegTokenInit(encodeNegTokenInit(mechTypeList([NTLMSSP_OID]), ntlm));
  assert.deepEqual(init.mechTypes, [NTLMSSP_OID]);
  assert.ok(init.mechToken?.equals(ntlm));

  const resp = decodeNegTokenResp(encodeNegTokenResp({
    negState: NegState.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID, responseToken: Buffer.alloc(300, 1), mechListMic: Buffer.alloc(16, 2),
  }));
  assert.equal(resp.negState, NegState.ACCEPT_INCOMPLETE);
  assert.equal(resp.supportedMech, NTLMSSP_OID);
  assert.equal(resp.responseToken?.length, 300);
  assert.ok(resp.mechListMic?.equals(Buffer.alloc(16, 2)));
});

test('paths are normalised and may not climb out of the share', () => {
  assert.equal(smbPath('/Temp/ASR//agent.exe'), 'Temp\\ASR\\agent.exe');
  assert.equal(smbPath('Temp\\x'), 'Temp\\x');
  assert.equal(smbPath(''), '');
  assert.throws(() => smbPath('a/../../Windows'), SmbError);
});

test('NTSTATUS values map to the ASR codes of guest-contract.md (Windows step 1)', () => {
  const expected: Array<[number, number]> = [
    [NtStatus.LOGON_FAILURE, 95107], [NtStatus.ACCESS_DENIED, 95517], [NtStatus.ACCOUNT_DISABLED, 95519],
    [NtStatus.ACCOUNT_LOCKED_OUT, 95520], [NtStatus.NO_LOGON_SERVERS, 95521], [NtStatus.TRUSTED_RELATIONSHIP_FAILURE, 95518],
    [NtStatus.TRUSTED_DOMAIN_FAILURE, 95518], [NtStatus.BAD_NETWORK_NAME, 95105],
  ];
  for (const [status, code] of expected) {
    assert.equal(asrCodeForStatus(status), code, ntStatusName(status));
    const e = SmbError.fromStatus(status, 'x');
    assert.equal(e.asrCode, code);
    assert.equal(e.ntStatusName, ntStatusName(status));
  }
  assert.equal(ntStatusName(NtStatus.LOGON_FAILURE), 'STATUS_LOGON_FAILURE');
  assert.equal(ntStatusName(0xc0001234), '0xc0001234');
  assert.equal(asrCodeForStatus(NtStatus.OBJECT_NAME_NOT_FOUND), undefined);
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.equal(fromSocketError(refused, 'h', 445).asrCode, 95105);
  const unreachable = Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' });
  assert.equal(fromSocketError(unreachable, 'h', 445).asrCode, 95117);
});
